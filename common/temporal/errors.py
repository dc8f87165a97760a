"""Errors across the Temporal boundary: a gRPC status travels as an ApplicationError and back.

Errors that retrying cannot fix (a taken slug, invalid input) are non-retryable, so the
workflow fails at once and its caller answers with the original gRPC status. While Temporal
itself cannot be reached, a caller hears `temporal_unavailable()`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import grpc
from google.rpc import error_details_pb2
from temporalio.exceptions import ApplicationError

from common.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ValidationError,
)
from common.grpc.status import first_detail, rich_status

T = TypeVar("T")

# Codes a retry cannot change; anything else (UNAVAILABLE, DEADLINE_EXCEEDED...) is retried.
FINAL_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
)
_BY_CODE: dict[str, type[DomainError]] = {
    "ALREADY_EXISTS": ConflictError,
    "NOT_FOUND": NotFoundError,
    "PERMISSION_DENIED": PermissionDeniedError,
}


def temporal_unavailable() -> UnavailableError:
    """What a caller who needs a workflow hears while Temporal cannot be reached."""
    return UnavailableError(
        "the workflow service is unavailable; try again shortly", reason="TEMPORAL_UNAVAILABLE"
    )


def _reason(error: grpc.aio.AioRpcError) -> tuple[str, str]:
    info = first_detail(rich_status(error), error_details_pb2.ErrorInfo)
    if info is not None:
        return info.reason, info.domain
    return error.code().name, "central"


def application_error(error: grpc.aio.AioRpcError) -> ApplicationError:
    """What an activity raises for a failed rpc: final for FINAL_CODES, retried otherwise.

    Always a new error, never `error` itself: raised `from error`, the failed rpc must not
    become its own cause, or Temporal's failure converter recurses without end.
    """
    reason, domain = _reason(error)
    return ApplicationError(
        error.details() or reason,
        {"code": error.code().name, "reason": reason, "domain": domain},
        type=reason,
        non_retryable=error.code() in FINAL_CODES,
    )


async def calling(rpc: Awaitable[T]) -> T:
    """Await an rpc from an activity: final failures become non-retryable errors, others retry."""
    try:
        return await rpc
    except grpc.aio.AioRpcError as error:
        raise application_error(error) from error


def domain_error(error: BaseException, otherwise: DomainError) -> DomainError:
    """The domain error behind a failed workflow, for the gRPC caller who started it;
    `otherwise` when the failure carries none (the workflow gave up on a transient one)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ApplicationError) and cause.details and isinstance(cause.details[0], dict):
            info = cause.details[0]
            kind = _BY_CODE.get(str(info.get("code")))
            if kind is not None:
                return kind(cause.message, reason=str(info.get("reason")), domain=str(info.get("domain")))
            if info.get("code") == "INVALID_ARGUMENT":
                return ValidationError.of("input", cause.message, reason=str(info.get("reason")))
        cause = cause.__cause__
    return otherwise
