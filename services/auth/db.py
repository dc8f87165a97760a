"""The auth schema as the auth service reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class TenantUserRow:
    tenant_user_id: UUID
    tenant_id: UUID
    email: str
    display_name: str
    role: str
    password_hash: str | None
    created_at: datetime
    last_login_at: datetime | None


TENANT_USER_COLUMNS = (
    "tenant_user_id, tenant_id, email, display_name, role, password_hash, created_at, last_login_at"
)


@dataclass(frozen=True, slots=True)
class AuthConnectorRow:
    auth_connector_id: UUID
    tenant_id: UUID
    name: str
    kind: str
    enabled: bool
    config: dict[str, Any]
    created_at: datetime


AUTH_CONNECTOR_COLUMNS = "auth_connector_id, tenant_id, name, kind, enabled, config, created_at"


@dataclass(frozen=True, slots=True)
class SessionRow:
    session_id: UUID
    tenant_id: UUID
    tenant_user_id: UUID
    user_agent: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


SESSION_COLUMNS = (
    "session_id, tenant_id, tenant_user_id, user_agent, created_at, last_seen_at, expires_at, revoked_at"
)
