"""Who may call an rpc, as its proto declares it (`central.api.v1.access`), checked by the guard.

The access is settled before the input is judged: a member who may not change a tenant
gets PERMISSION_DENIED and a user of another tenant NOT_FOUND, whatever they sent. Only the
`tenant_id` that the access is settled on is judged first: a malformed one names no tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message

from central.api.v1 import options_pb2
from common.authz import require_admin, require_system, require_tenant, require_tenant_user
from common.errors import FieldViolation, NotFoundError, ValidationError

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
    elif access == options_pb2.ACCESS_TENANT_USER:
        require_tenant_user()
    else:
        if tenant_violations := [v for v in violations if v.field == _TENANT_FIELD]:
            raise ValidationError(tenant_violations)
        tenant_id: str = getattr(request, _TENANT_FIELD)
        require = require_admin if access == options_pb2.ACCESS_TENANT_ADMIN else require_tenant
        require(tenant_id, _tenant_not_found)


def _tenant_not_found() -> NotFoundError:
    # What the tenants service answers for a tenant that does not exist: another's looks the same.
    return NotFoundError("tenant not found", reason="TENANT_NOT_FOUND", domain="tenants.central")
