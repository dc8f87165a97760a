"""The rich status a failed rpc carries in its `grpc-status-details-bin` trailer (google.rpc.Status)."""

from __future__ import annotations

from typing import TypeVar

import grpc
from google.protobuf.message import DecodeError, Message
from google.rpc import status_pb2

DETAILS_KEY = "grpc-status-details-bin"

DetailT = TypeVar("DetailT", bound=Message)


def rich_status(error: grpc.aio.AioRpcError) -> status_pb2.Status | None:
    """The google.rpc.Status of `error`, or None when it carries none (or one that does not parse)."""
    for key, value in error.trailing_metadata() or ():
        if key == DETAILS_KEY and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except DecodeError:
                return None
    return None


def first_detail(status: status_pb2.Status | None, detail_type: type[DetailT]) -> DetailT | None:
    """The first detail of `detail_type` in `status` (an ErrorInfo, a RetryInfo...), if any."""
    if status is None:
        return None
    for detail in status.details:
        found = detail_type()
        if detail.Unpack(found):
            return found
    return None
