"""Who may call an rpc, as its proto declares it (`central.api.v1.access`), checked by the guard.

The access is settled before the input is judged: a member who may not change a tenant
gets PERMISSION_DENIED and a user of another tenant NOT_FOUND, whatever they sent. Only the
`tenant_id` that the access is settled on is judged first: a malformed one names no tenant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeAlias

from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message

from central.api.v1 import options_pb2
from common.errors import (
    DomainError,
    FieldViolation,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
    ValidationError,
)
from common.principal import Principal, PrincipalKind, acting_as, current_principal

Access: TypeAlias = options_pb2.Access.ValueType
_TENANT_FIELD = "tenant_id"
_TENANT_SCOPED = (options_pb2.ACCESS_TENANT_MEMBER, options_pb2.ACCESS_TENANT_ADMIN)


def declared_access(method: MethodDescriptor) -> Access:
    """The access `method` declares; one that declares none, or one it cannot check, fails at start-up."""
    access = method.GetOptions().Extensions[options_pb2.access]
    if access == options_pb2.ACCESS_UNSPECIFIED:
        raise ValueError(f"{method.full_name} declares no (central.api.v1.access)")
    if access in _TENANT_SCOPED:
        field = method.input_type.fields_by_name.get(_TENANT_FIELD)
        if field is None or field.type != FieldDescriptor.TYPE_STRING:
            raise ValueError(f"{method.full_name}: a tenant's access needs a string `{_TENANT_FIELD}` input")
    return access


def enforce(access: Access, request: Message, violations: Sequence[FieldViolation]) -> None:
    """Raise what the current principal may not do; the violations of `tenant_id` come first."""
    if access == options_pb2.ACCESS_PUBLIC:
        return
    if access == options_pb2.ACCESS_SYSTEM:
        require_system()
    elif access == options_pb2.ACCESS_GATEWAY:
        require_gateway()
    elif access == options_pb2.ACCESS_TENANT_USER:
        require_tenant_user()
    else:
        if tenant_violations := [v for v in violations if v.field == _TENANT_FIELD]:
            raise ValidationError(tenant_violations)
        tenant_id: str = getattr(request, _TENANT_FIELD)
        require = require_admin if access == options_pb2.ACCESS_TENANT_ADMIN else require_tenant
        require(tenant_id, _tenant_not_found)


def allows(access: Access, request: Message, principal: Principal) -> bool:
    """Whether `enforce` lets `principal` through, for a well-formed `request` (the gateway,
    answering from its own cache, asks it: a refusal still goes to the rpc, which words it)."""
    with acting_as(principal):
        try:
            enforce(access, request, ())
        except DomainError:
            return False
    return True


def _tenant_not_found() -> NotFoundError:
    # What the tenants service answers for a tenant that does not exist: another's looks the same.
    return NotFoundError("tenant not found", reason="TENANT_NOT_FOUND", domain="tenants.central")


def require_signed_in() -> Principal:
    principal = current_principal()
    if principal.kind is PrincipalKind.ANONYMOUS:
        raise UnauthenticatedError("sign in first", reason="SIGN_IN_REQUIRED")
    if principal.kind is PrincipalKind.GATEWAY:
        raise PermissionDeniedError("the gateway calls only the rpcs that serve it", reason="SYSTEM_ONLY")
    return principal


def require_tenant_user() -> Principal:
    """A signed-in tenant user (not the system): what has an owner, like /me, needs one."""
    principal = require_signed_in()
    if principal.kind is not PrincipalKind.USER:
        raise UnauthenticatedError("only a signed-in tenant user has this", reason="TENANT_USER_ONLY")
    return principal


def require_system() -> Principal:
    principal = current_principal()
    if principal.kind is not PrincipalKind.SYSTEM:
        raise PermissionDeniedError("only Central's own processes may do this", reason="SYSTEM_ONLY")
    return principal


def require_gateway() -> Principal:
    principal = current_principal()
    if principal.kind not in (PrincipalKind.GATEWAY, PrincipalKind.SYSTEM):
        raise PermissionDeniedError(
            "only the gateway and Central's own processes may do this", reason="SYSTEM_ONLY"
        )
    return principal


def require_tenant(tenant_id: str, not_found: Callable[[], NotFoundError]) -> Principal:
    """The caller acts inside `tenant_id`, or sees NOT_FOUND as if it did not exist."""
    principal = require_signed_in()
    if principal.kind is PrincipalKind.USER and principal.tenant_id != tenant_id:
        raise not_found()
    return principal


def require_admin(tenant_id: str, not_found: Callable[[], NotFoundError]) -> Principal:
    principal = require_tenant(tenant_id, not_found)
    if principal.kind is PrincipalKind.USER and not principal.is_admin:
        raise PermissionDeniedError("only an admin of the tenant may do this", reason="ADMIN_ONLY")
    return principal
