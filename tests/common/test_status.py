"""The one reader of `grpc-status-details-bin`: what a failed rpc's rich status says."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from common.grpc.status import DETAILS_KEY, first_detail, rich_status


def failed_rpc(*trailers: tuple[str, str | bytes]) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(
        grpc.StatusCode.NOT_FOUND, grpc.aio.Metadata(), grpc.aio.Metadata(*trailers), "gone"
    )


def packed(*details: error_details_pb2.ErrorInfo | error_details_pb2.RetryInfo) -> bytes:
    anys = []
    for detail in details:
        wrapped = any_pb2.Any()
        wrapped.Pack(detail)
        anys.append(wrapped)
    return status_pb2.Status(code=5, message="gone", details=anys).SerializeToString()


def test_the_details_trailer_is_read_and_a_detail_found_by_type() -> None:
    info = error_details_pb2.ErrorInfo(reason="TENANT_NOT_FOUND", domain="tenants.central")
    retry = error_details_pb2.RetryInfo()
    retry.retry_delay.seconds = 3
    status = rich_status(failed_rpc(("other-bin", b"x"), (DETAILS_KEY, packed(info, retry))))
    assert status is not None and status.message == "gone"
    assert first_detail(status, error_details_pb2.ErrorInfo) == info
    assert first_detail(status, error_details_pb2.RetryInfo) == retry
    assert first_detail(status, error_details_pb2.BadRequest) is None


def test_no_trailer_or_a_broken_one_is_no_status() -> None:
    assert rich_status(failed_rpc()) is None
    assert rich_status(failed_rpc((DETAILS_KEY, b"\xff\xff\xff"))) is None
    assert first_detail(None, error_details_pb2.ErrorInfo) is None
