"""A failed rpc inside an activity, as Temporal sees it: retried or final, and always encodable."""

from __future__ import annotations

import logging

import grpc
import pytest
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError

from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from common.ports import free_port
from common.temporal.errors import calling
from worker.logs import OneLineApplicationErrors


def causes(error: BaseException) -> list[BaseException]:
    """The __cause__ chain of `error`, which must end."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None:
        assert all(current is not seen for seen in chain), f"{current!r} is its own cause"
        chain.append(current)
        current = current.__cause__
    return chain


async def failed_rpc_in_an_activity() -> ApplicationError:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{free_port()}") as nowhere:
        stub = tenants_pb2_grpc.TenantsServiceStub(nowhere)
        with pytest.raises(ApplicationError) as caught:
            await calling(stub.GetTenantBySlug(tenants_pb2.GetTenantBySlugInput(slug="x"), timeout=2))
    return caught.value


async def test_a_retryable_rpc_failure_is_a_retryable_error_that_temporal_can_encode() -> None:
    error = await failed_rpc_in_an_activity()
    assert not error.non_retryable
    assert error.type == "UNAVAILABLE"
    assert [type(e) for e in causes(error)] == [ApplicationError, grpc.aio.AioRpcError]
    failure = Failure()
    await DataConverter.default.encode_failure(error, failure)  # recursed without end before
    assert failure.application_failure_info.type == "UNAVAILABLE"
    assert not failure.application_failure_info.non_retryable


async def test_a_final_rpc_failure_is_non_retryable() -> None:
    rpc_error = grpc.aio.AioRpcError(
        grpc.StatusCode.ALREADY_EXISTS, grpc.aio.Metadata(), grpc.aio.Metadata(), "taken"
    )

    async def failing() -> None:
        raise rpc_error

    with pytest.raises(ApplicationError) as caught:
        await calling(failing())
    assert (caught.value.non_retryable, caught.value.message) == (True, "taken")
    assert causes(caught.value)[1:] == [rpc_error]


async def test_a_failed_attempt_is_one_log_line_and_a_bug_keeps_its_traceback() -> None:
    expected = await failed_rpc_in_an_activity()

    def record(error: BaseException) -> logging.LogRecord:
        return logging.LogRecord(
            "temporalio.activity", logging.WARNING, __file__, 1, "Completing activity as failed (%s)",
            ("attempt 1",), (type(error), error, error.__traceback__),
        )  # fmt: skip

    one_line = record(expected)
    assert OneLineApplicationErrors().filter(one_line)
    formatted = logging.Formatter().format(one_line)
    assert "\n" not in formatted
    assert formatted.startswith("Completing activity as failed (attempt 1): UNAVAILABLE: ")

    nothing: dict[str, int] = {}
    try:
        nothing["missing"]
    except KeyError as error:
        bug = record(error)
    assert OneLineApplicationErrors().filter(bug)
    assert "Traceback" in logging.Formatter().format(bug)
