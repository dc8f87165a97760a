"""Authorization rules every service applies to the current principal.

The tenant always comes from the principal: a tenant user asking for another tenant's
resource gets the same NOT_FOUND as for one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable

from common.errors import NotFoundError, PermissionDeniedError, UnauthenticatedError
from common.principal import Principal, PrincipalKind, current_principal


def require_signed_in() -> Principal:
    principal = current_principal()
    if principal.kind is PrincipalKind.ANONYMOUS:
        raise UnauthenticatedError("sign in first", reason="SIGN_IN_REQUIRED")
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
