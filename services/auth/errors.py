"""The auth domain's errors, one constructor each so that every path says the same thing."""

from __future__ import annotations

from common.errors import (
    ConflictError,
    DomainError,
    FailedPreconditionError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
    UnavailableError,
    ValidationError,
)

DOMAIN = "auth.central"


def tenant_not_found() -> NotFoundError:
    # The same answer as the tenants service gives, so a missing tenant and another's look alike.
    return NotFoundError("tenant not found", reason="TENANT_NOT_FOUND", domain="tenants.central")


def tenant_user_not_found() -> NotFoundError:
    return NotFoundError("tenant user not found", reason="TENANT_USER_NOT_FOUND", domain=DOMAIN)


def password_hash_refused() -> ValidationError:
    return ValidationError.of(
        "password_hash",
        "expected an argon2id hash whose memory, time and parallelism do not exceed the service's",
        reason="PASSWORD_HASH_REFUSED",
        domain=DOMAIN,
    )


def tenant_user_id_taken() -> ConflictError:
    return ConflictError("that tenant user ID is taken", reason="TENANT_USER_ID_TAKEN", domain=DOMAIN)


def auth_connector_not_found() -> NotFoundError:
    return NotFoundError("auth connector not found", reason="AUTH_CONNECTOR_NOT_FOUND", domain=DOMAIN)


def session_not_found() -> NotFoundError:
    return NotFoundError("session not found", reason="SESSION_NOT_FOUND", domain=DOMAIN)


def email_taken(email: str) -> ConflictError:
    return ConflictError(
        f"a tenant user with email '{email}' already exists in this tenant",
        reason="EMAIL_TAKEN",
        domain=DOMAIN,
    )


def connector_name_taken(name: str) -> ConflictError:
    return ConflictError(
        f"an auth connector named '{name}' already exists in this tenant",
        reason="AUTH_CONNECTOR_NAME_TAKEN",
        domain=DOMAIN,
    )


def last_admin() -> FailedPreconditionError:
    return FailedPreconditionError(
        "the tenant's last admin cannot be offboarded: add another admin first",
        reason="LAST_ADMIN",
        domain=DOMAIN,
    )


def last_login_connector() -> FailedPreconditionError:
    return FailedPreconditionError(
        "the tenant's last enabled auth connector cannot be disabled or deleted: nobody could log in",
        reason="LAST_LOGIN_CONNECTOR",
        domain=DOMAIN,
    )


def invalid_credentials() -> UnauthenticatedError:
    # One message for unknown tenant, unknown email, wrong password and disabled connector.
    return UnauthenticatedError("invalid email or password", reason="INVALID_CREDENTIALS", domain=DOMAIN)


def invalid_session() -> UnauthenticatedError:
    return UnauthenticatedError("the session is not valid", reason="INVALID_SESSION", domain=DOMAIN)


def sso_refused(reason: str, message: str) -> DomainError:
    """A single sign-on that cannot go on; each reason has one status (see `_SSO_ERRORS`)."""
    return _SSO_ERRORS[reason](message, reason=reason, domain=DOMAIN)


_SSO_ERRORS: dict[str, type[DomainError]] = {
    "OIDC_CONNECTOR_DISABLED": FailedPreconditionError,
    "OIDC_STATE_MISSING": InvalidInputError,
    "OIDC_STATE_INVALID": InvalidInputError,
    "OIDC_PROVIDER_ERROR": UnauthenticatedError,
    "OIDC_TOKEN_EXCHANGE_FAILED": UnauthenticatedError,
    "OIDC_ID_TOKEN_INVALID": UnauthenticatedError,
    "OIDC_EMAIL_NOT_VERIFIED": PermissionDeniedError,
    "OIDC_USER_NOT_ALLOWED": PermissionDeniedError,
    "OIDC_PROVIDER_UNAVAILABLE": UnavailableError,
}
