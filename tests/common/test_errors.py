import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2

from common.errors import (
    ConflictError,
    DomainError,
    FailedPreconditionError,
    FieldViolation,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
    UnavailableError,
    ValidationError,
    collect_violations,
)
from services.gateway.errors import HTTP_STATUS, from_domain_error


@pytest.mark.parametrize(
    ("error", "code", "http"),
    [
        (NotFoundError("x"), grpc.StatusCode.NOT_FOUND, 404),
        (ConflictError("x"), grpc.StatusCode.ALREADY_EXISTS, 409),
        (PermissionDeniedError("x"), grpc.StatusCode.PERMISSION_DENIED, 403),
        (UnauthenticatedError("x"), grpc.StatusCode.UNAUTHENTICATED, 401),
        (UnavailableError("x"), grpc.StatusCode.UNAVAILABLE, 503),
        (FailedPreconditionError("x"), grpc.StatusCode.FAILED_PRECONDITION, 400),
        (ValidationError.of("f", "bad"), grpc.StatusCode.INVALID_ARGUMENT, 400),
    ],
)
def test_each_domain_error_has_one_status(error: DomainError, code: grpc.StatusCode, http: int) -> None:
    assert error.code == code
    assert HTTP_STATUS[code] == http
    status = error.to_rpc_status()
    assert status.code == getattr(code_pb2, code.name)
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert info.reason == error.reason


def test_validation_error_carries_every_field_violation() -> None:
    with pytest.raises(ValidationError) as caught:
        collect_violations(
            FieldViolation("a", "too short"), None, FieldViolation("b", "bad"), domain="tenants.central"
        )
    status = caught.value.to_rpc_status()
    bad_request = error_details_pb2.BadRequest()
    assert status.details[1].Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("a", "too short"),
        ("b", "bad"),
    ]
    assert caught.value.domain == "tenants.central"


def test_collect_violations_passes_when_all_checks_pass() -> None:
    collect_violations(None, None)


def test_gateway_renders_aip193() -> None:
    status, body = from_domain_error(
        ConflictError("taken", reason="TENANT_SLUG_TAKEN", domain="tenants.central")
    )
    assert status == 409
    assert body == (
        b'{"error":{"code":409,"status":"ALREADY_EXISTS","message":"taken","details":[{"@type":'
        b'"type.googleapis.com/google.rpc.ErrorInfo","reason":"TENANT_SLUG_TAKEN","domain":"tenants.central"}]}}'
    )
