"""Errors as browsers see them: Google's API error model (AIP-193) with API.md's status table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
import orjson
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2

from common.errors import DomainError
from common.grpc.status import first_detail, rich_status

HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
_BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"


@dataclass
class HttpError(Exception):
    """An error the gateway answers itself, before or instead of a service."""

    http_status: int
    code: grpc.StatusCode
    message: str
    reason: str
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def body(self) -> bytes:
        info = {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": self.reason,
            "domain": "gateway.central",
        }
        return _body(self.http_status, self.code, self.message, [info])


def _body(http_status: int, code: grpc.StatusCode, message: str, details: list[dict[str, Any]]) -> bytes:
    error: dict[str, Any] = {"code": http_status, "status": code.name, "message": message}
    if details:
        error["details"] = details
    return orjson.dumps({"error": error})


def _retry_after(status: status_pb2.Status) -> int | None:
    """The Retry-After a google.rpc.RetryInfo detail asks for (rounded up), if any."""
    info = first_detail(status, error_details_pb2.RetryInfo)
    if info is None:
        return None
    delay = info.retry_delay
    return max(1, delay.seconds + (1 if delay.nanos else 0))


def from_rpc_error(
    error: grpc.aio.AioRpcError, hidden_prefix: str = ""
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """The HTTP status, AIP-193 body and headers (Retry-After) of a failed rpc; its details parsed once.

    `hidden_prefix` is the path the caller's parameters filled without naming it (a list's
    `input.`): field violations name the fields as the caller sent them.
    """
    code = error.code()
    http_status = HTTP_STATUS.get(code, 500)
    if http_status == 500:
        # Whatever went wrong inside stays inside.
        return 500, _body(500, code, "internal error", []), []
    status = rich_status(error)
    if status is None:
        return http_status, _body(http_status, code, error.details() or code.name.lower(), []), []
    details = [json_format.MessageToDict(detail) for detail in status.details]
    message = error.details() or code.name.lower()
    if hidden_prefix:
        message = _unhide_fields(details, hidden_prefix) or message
    retry = _retry_after(status)
    headers = [(b"retry-after", str(retry).encode())] if retry is not None else []
    return http_status, _body(http_status, code, message, details), headers


def _unhide_fields(details: list[dict[str, Any]], prefix: str) -> str | None:
    """Drop `prefix` from the BadRequest's field names; the message they make, if one changed."""
    violations = [
        violation
        for detail in details
        if detail.get("@type") == _BAD_REQUEST_TYPE
        for violation in detail.get("fieldViolations", [])
    ]
    hidden = [v for v in violations if str(v.get("field", "")).startswith(prefix)]
    for violation in hidden:
        violation["field"] = violation["field"].removeprefix(prefix)
    # A ValidationError's message is its violations, "field: description", joined by "; ".
    return "; ".join(f"{v['field']}: {v.get('description', '')}" for v in violations) if hidden else None


def from_domain_error(error: DomainError) -> tuple[int, bytes]:
    http_status = HTTP_STATUS.get(error.code, 500)
    details = [json_format.MessageToDict(detail) for detail in error.details()]
    return http_status, _body(http_status, error.code, error.message, details)


def internal_error() -> tuple[int, bytes]:
    return 500, _body(500, grpc.StatusCode.INTERNAL, "internal error", [])
