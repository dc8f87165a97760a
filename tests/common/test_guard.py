"""The guard every rpc goes through: input rules before the handler, and database failures told apart."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import psycopg
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout

from central.auth.v1 import auth_connectors_pb2, sessions_pb2, tenant_users_pb2
from central.identity.v1 import signup_pb2
from central.tenants.v1 import tenants_pb2
from common.grpc.guard import Guard
from common.keys import Issuer
from common.principal import GATEWAY, METADATA_KEY, SYSTEM, Principal, PrincipalKind
from common.roles import Role
from tests.support import fake_service
from tests.support.principals import KEYS, SIGNERS, resigned, sign, verifier

AUDIENCE = "tenants"
VERIFIER = verifier(AUDIENCE)
TENANT_ID = "tenant-01ARZ3NDEKTSV4RRFFQ69G5FAV"
GOOD_SIGNUP = {
    "tenant_slug": "acme",
    "tenant_display_name": "Acme Inc.",
    "email": "ann@example.com",
    "password": "correct horse battery",
    "display_name": "Ann Example",
}


@dataclass
class FakeContext:
    """What the guard uses of a grpc.aio.ServicerContext."""

    token: str = field(default_factory=lambda: sign(SYSTEM, AUDIENCE))
    aborted: tuple[grpc.StatusCode, str] | None = None
    trailing: Any = None

    def invocation_metadata(self) -> list[tuple[str, str]]:
        return [(METADATA_KEY, self.token)]

    def time_remaining(self) -> float | None:
        return None

    def code(self) -> grpc.StatusCode | None:
        return self.aborted[0] if self.aborted else None

    async def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> None:
        self.aborted, self.trailing = (code, details), trailing_metadata
        raise grpc.aio.AbortError()

    def field_violations(self) -> list[tuple[str, str]]:
        details = dict(self.trailing or ())["grpc-status-details-bin"]
        bad_request = error_details_pb2.BadRequest()
        for detail in status_pb2.Status.FromString(details).details:
            detail.Unpack(bad_request)
        return [(v.field, v.description) for v in bad_request.field_violations]


class Servicer:
    """Answers every rpc with `answer`, and counts the calls that reached it."""

    def __init__(self, answer: Callable[[], Awaitable[Any]] | None = None) -> None:
        self.calls = 0
        self.answer = answer

    def __getattr__(self, name: str) -> Callable[[Message, Any], Awaitable[Any]]:
        async def handler(request: Message, context: Any) -> Any:
            self.calls += 1
            return await self.answer() if self.answer else None

        return handler


async def call(
    service: Any, rpc: str, request: Message, servicer: Servicer | None = None, principal: Principal = SYSTEM
) -> FakeContext:
    servicer = servicer or Servicer()
    guarded = Guard(VERIFIER)(servicer, service)
    context = FakeContext(sign(principal, AUDIENCE))
    with contextlib.suppress(grpc.aio.AbortError):
        await getattr(guarded, rpc)(request, context)
    return context


SIGNUP = signup_pb2.DESCRIPTOR.services_by_name["SignupService"]
TENANTS = tenants_pb2.DESCRIPTOR.services_by_name["TenantsService"]
USERS = tenant_users_pb2.DESCRIPTOR.services_by_name["TenantUsersService"]
CONNECTORS = auth_connectors_pb2.DESCRIPTOR.services_by_name["AuthConnectorsService"]
SESSIONS = sessions_pb2.DESCRIPTOR.services_by_name["SessionsService"]


async def test_valid_input_reaches_the_handler() -> None:
    servicer = Servicer()
    context = await call(SIGNUP, "Signup", signup_pb2.SignupInput(**GOOD_SIGNUP), servicer)
    assert context.aborted is None
    assert servicer.calls == 1


@pytest.mark.parametrize("field_name", list(GOOD_SIGNUP))
async def test_nul_is_refused_in_every_string(field_name: str) -> None:
    servicer = Servicer()
    value = GOOD_SIGNUP[field_name]
    request = signup_pb2.SignupInput(**{**GOOD_SIGNUP, field_name: value[:2] + "\x00" + value[2:]})
    context = await call(SIGNUP, "Signup", request, servicer)
    assert context.aborted is not None and context.aborted[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in context.field_violations()] == [field_name]
    assert servicer.calls == 0


@pytest.mark.parametrize(
    ("field_name", "value"),
    [
        ("display_name", "Ann \x1b[31mRed\x1b[0m"),
        ("display_name", "Ann\u202eelpmaxE"),
        ("display_name", "Ann\nExample"),
        ("tenant_display_name", "Acme\x07"),
        ("email", "ann\x1b@example.com"),
        ("email", "ann@exam\x85ple.com"),
    ],
)
async def test_control_characters_are_refused_in_names_and_emails(field_name: str, value: str) -> None:
    request = signup_pb2.SignupInput(**{**GOOD_SIGNUP, field_name: value})
    context = await call(SIGNUP, "Signup", request)
    assert context.aborted is not None and context.aborted[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in context.field_violations()] == [field_name]


async def test_every_bad_field_is_named_once_in_proto_spelling() -> None:
    request = auth_connectors_pb2.CreateAuthConnectorInput(tenant_id=TENANT_ID, name="-bad\x00")
    request.password.min_length = 3
    context = await call(CONNECTORS, "CreateAuthConnector", request)
    violations = dict(context.field_violations())
    assert list(violations) == ["name", "password.min_length"]
    assert violations["name"].startswith("must be 1 to 63 lowercase letters")


async def test_the_tenant_an_access_is_settled_on_is_judged_first() -> None:
    request = auth_connectors_pb2.CreateAuthConnectorInput(tenant_id=TENANT_ID + "\n", name="-bad")
    context = await call(CONNECTORS, "CreateAuthConnector", request)
    assert context.field_violations() == [("tenant_id", "must be a tenant ID (tenant-<ULID>)")]


MEMBER = Principal(PrincipalKind.USER, tenant_id=TENANT_ID, role=Role.MEMBER)
OTHER_TENANT_ID = "tenant-01BX5ZZKBKACTAV9WEVGEMMVRZ"
ADMIN_ELSEWHERE = Principal(PrincipalKind.USER, tenant_id=OTHER_TENANT_ID, role=Role.ADMIN)


@pytest.mark.parametrize(
    ("principal", "code"),
    [
        (MEMBER, grpc.StatusCode.PERMISSION_DENIED),
        (ADMIN_ELSEWHERE, grpc.StatusCode.NOT_FOUND),
        (Principal(PrincipalKind.ANONYMOUS), grpc.StatusCode.UNAUTHENTICATED),
        (SYSTEM, grpc.StatusCode.INVALID_ARGUMENT),
    ],
)
async def test_access_is_settled_before_the_rest_of_the_input_is_judged(
    principal: Principal, code: grpc.StatusCode
) -> None:
    servicer = Servicer()
    # An empty body: invalid input, which only a caller who may create users is told about.
    request = tenant_users_pb2.CreateTenantUserInput(tenant_id=TENANT_ID)
    context = await call(USERS, "CreateTenantUser", request, servicer, principal)
    assert context.aborted is not None and context.aborted[0] == code
    assert servicer.calls == 0


async def test_system_rpcs_refuse_tenant_users_whatever_they_send() -> None:
    request = tenants_pb2.CreateTenantInput(slug="-bad-")
    context = await call(TENANTS, "CreateTenant", request, principal=MEMBER)
    assert context.aborted is not None and context.aborted[0] == grpc.StatusCode.PERMISSION_DENIED


def test_an_rpc_that_declares_no_access_is_refused_at_start_up() -> None:
    service = fake_service.build({"GetThing": (None, fake_service.PUBLIC)})
    with pytest.raises(ValueError, match="declares no"):
        Guard(VERIFIER)(Servicer(), service)


async def test_a_new_user_needs_a_password() -> None:
    request = tenant_users_pb2.CreateTenantUserInput(
        tenant_id=TENANT_ID, email="ann@example.com", display_name="Ann", role=Role.MEMBER
    )
    context = await call(USERS, "CreateTenantUser", request)
    assert context.field_violations() == [("password", "is required")]


async def test_only_the_system_provisions_a_user_with_a_chosen_id_and_hash() -> None:
    admin = Principal(PrincipalKind.USER, tenant_id=TENANT_ID, role=Role.ADMIN)
    request = tenant_users_pb2.ProvisionTenantUserInput(tenant_id=TENANT_ID)
    context = await call(USERS, "ProvisionTenantUser", request, principal=admin)
    assert context.aborted is not None and context.aborted[0] == grpc.StatusCode.PERMISSION_DENIED


async def test_an_unknown_enum_number_is_refused() -> None:
    request = tenant_users_pb2.ListTenantUsersInputOrCursor(tenant_id=TENANT_ID)
    request.input.order = 5  # type: ignore[assignment]  # what a careless caller sends
    context = await call(USERS, "ListTenantUsers", request)
    assert [f for f, _ in context.field_violations()] == ["input.order"]


async def test_strings_are_bounded() -> None:
    request = signup_pb2.SignupInput(**{**GOOD_SIGNUP, "email": "a" * 3000 + "@example.com"})
    context = await call(SIGNUP, "Signup", request)
    assert context.field_violations() == [("email", "must be an email address")]


def _query_failure(error: BaseException) -> Servicer:
    async def fail() -> None:
        raise error

    return Servicer(fail)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (pg_errors.StringDataRightTruncation("value too long"), grpc.StatusCode.INVALID_ARGUMENT),
        (pg_errors.ProgramLimitExceeded("index row size exceeds maximum"), grpc.StatusCode.INVALID_ARGUMENT),
        (psycopg.DataError("text fields cannot contain NUL (0x00) bytes"), grpc.StatusCode.INVALID_ARGUMENT),
        (psycopg.OperationalError("connection failed: Connection refused"), grpc.StatusCode.UNAVAILABLE),
        (pg_errors.AdminShutdown("terminating connection"), grpc.StatusCode.UNAVAILABLE),
        (PoolTimeout("couldn't get a connection after 5.00 sec"), grpc.StatusCode.UNAVAILABLE),
        (pg_errors.UndefinedColumn('column "x" does not exist'), grpc.StatusCode.INTERNAL),
        (pg_errors.DiskFull("could not extend file"), grpc.StatusCode.INTERNAL),
    ],
)
async def test_database_failures_are_told_apart(error: BaseException, code: grpc.StatusCode) -> None:
    request = tenants_pb2.GetTenantInput(tenant_id=TENANT_ID)
    context = await call(TENANTS, "GetTenant", request, _query_failure(error))
    assert context.aborted is not None and context.aborted[0] == code


async def called_with(token: str, servicer: Servicer) -> FakeContext:
    guarded = Guard(VERIFIER)(servicer, TENANTS)
    context = FakeContext(token)
    with contextlib.suppress(grpc.aio.AbortError):
        await guarded.GetTenant(tenants_pb2.GetTenantInput(tenant_id=TENANT_ID), context)
    return context


async def test_a_principal_signed_for_another_process_is_refused() -> None:
    servicer = Servicer()
    context = await called_with(sign(SYSTEM, "auth"), servicer)
    assert context.aborted is not None and context.aborted[0] == grpc.StatusCode.UNAUTHENTICATED
    assert servicer.calls == 0
    await called_with(sign(SYSTEM, AUDIENCE), servicer)
    assert servicer.calls == 1


async def test_the_system_signed_with_the_gateways_key_is_refused() -> None:
    # What a gateway that has been taken over could sign, were its key allowed to: refused.
    gateway_signer = SIGNERS[Issuer.GATEWAY]
    with pytest.raises(ValueError, match="does not sign"):
        gateway_signer.sign(SYSTEM, AUDIENCE)
    forged = resigned(KEYS[Issuer.GATEWAY], gateway_signer.sign(GATEWAY, AUDIENCE), kind="system")
    servicer = Servicer()
    context = await called_with(forged, servicer)
    assert context.aborted is not None and context.aborted[0] == grpc.StatusCode.UNAUTHENTICATED
    assert servicer.calls == 0


async def test_the_gateway_as_itself_calls_the_system_rpcs_that_serve_it_and_no_other() -> None:
    report = sessions_pb2.ReportSessionUseInput()
    servicer = Servicer()
    context = await call(SESSIONS, "ReportSessionUse", report, servicer, GATEWAY)
    assert context.aborted is None and servicer.calls == 1
    for service, rpc, request in [
        (SESSIONS, "DeleteEndedSessions", sessions_pb2.DeleteEndedSessionsInput()),
        (TENANTS, "CreateTenant", tenants_pb2.CreateTenantInput(slug="acme", display_name="Acme")),
        (TENANTS, "GetTenant", tenants_pb2.GetTenantInput(tenant_id=TENANT_ID)),
        (USERS, "GetTenantUser", tenant_users_pb2.GetTenantUserInput(tenant_id=TENANT_ID)),
        (USERS, "GetMe", tenant_users_pb2.GetMeInput()),
    ]:
        context = await call(service, rpc, request, servicer, GATEWAY)
        assert context.aborted is not None and context.aborted[0] == grpc.StatusCode.PERMISSION_DENIED, rpc
    assert servicer.calls == 1
