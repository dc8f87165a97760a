"""The tenants schema as the tenants service reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class TenantRow:
    tenant_id: UUID
    slug: str
    display_name: str
    created_at: datetime
    updated_at: datetime


COLUMNS = "tenant_id, slug, display_name, created_at, updated_at"
