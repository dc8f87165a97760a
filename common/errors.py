"""Domain errors, each mapped to exactly one gRPC status with a machine-readable reason.

Services raise these; the gRPC error interceptor turns them into a status carrying a
google.rpc.ErrorInfo (reason, domain) and, for validation, a google.rpc.BadRequest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2


@dataclass(frozen=True, slots=True)
class FieldViolation:
    # The field's name as the caller sent it (proto field name, dotted for nesting).
    field: str
    description: str


class DomainError(Exception):
    code: ClassVar[grpc.StatusCode]
    default_reason: ClassVar[str]

    def __init__(self, message: str, *, reason: str | None = None, domain: str = "central") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.domain = domain

    def details(self) -> list[any_pb2.Any]:
        info = any_pb2.Any()
        info.Pack(error_details_pb2.ErrorInfo(reason=self.reason, domain=self.domain))
        return [info]

    def to_rpc_status(self) -> status_pb2.Status:
        code: int = getattr(code_pb2, self.code.name)
        return status_pb2.Status(code=code, message=self.message, details=self.details())


class NotFoundError(DomainError):
    code = grpc.StatusCode.NOT_FOUND
    default_reason = "NOT_FOUND"


class ConflictError(DomainError):
    code = grpc.StatusCode.ALREADY_EXISTS
    default_reason = "ALREADY_EXISTS"


class FailedPreconditionError(DomainError):
    """The request is well formed, but the resource's state forbids it (the reason says which state)."""

    code = grpc.StatusCode.FAILED_PRECONDITION
    default_reason = "FAILED_PRECONDITION"


class PermissionDeniedError(DomainError):
    code = grpc.StatusCode.PERMISSION_DENIED
    default_reason = "PERMISSION_DENIED"


class UnauthenticatedError(DomainError):
    code = grpc.StatusCode.UNAUTHENTICATED
    default_reason = "UNAUTHENTICATED"


class ValidationError(DomainError):
    code = grpc.StatusCode.INVALID_ARGUMENT
    default_reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        violations: Sequence[FieldViolation],
        *,
        reason: str | None = None,
        domain: str = "central",
    ) -> None:
        if not violations:
            raise ValueError("a ValidationError needs at least one field violation")
        message = "; ".join(f"{v.field}: {v.description}" for v in violations)
        super().__init__(message, reason=reason, domain=domain)
        self.violations = tuple(violations)

    @classmethod
    def of(
        cls, field: str, description: str, *, reason: str | None = None, domain: str = "central"
    ) -> ValidationError:
        return cls([FieldViolation(field, description)], reason=reason, domain=domain)

    def details(self) -> list[any_pb2.Any]:
        bad_request = any_pb2.Any()
        bad_request.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                    for v in self.violations
                ]
            )
        )
        return [*super().details(), bad_request]


class InvalidInputError(DomainError):
    """A value the field rules let through, yet the database refused (too long for an index, say)."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    default_reason = "INVALID_INPUT"


def collect_violations(*checks: FieldViolation | None, domain: str = "central") -> None:
    """Raise one ValidationError naming every failed check, or nothing."""
    violations = [v for v in checks if v is not None]
    if violations:
        raise ValidationError(violations, domain=domain)


class UnavailableError(DomainError):
    code = grpc.StatusCode.UNAVAILABLE
    default_reason = "UNAVAILABLE"


class ResourceExhaustedError(DomainError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    default_reason = "RESOURCE_EXHAUSTED"

    def __init__(
        self, message: str, *, retry_after_seconds: int, reason: str | None = None, domain: str = "central"
    ) -> None:
        super().__init__(message, reason=reason, domain=domain)
        self.retry_after_seconds = retry_after_seconds

    def details(self) -> list[any_pb2.Any]:
        retry = any_pb2.Any()
        retry.Pack(
            error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=self.retry_after_seconds))
        )
        return [*super().details(), retry]
