"""The steps of a signup, each an idempotent call to the service that owns the data."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from temporalio import activity

from central.auth.v1 import tenant_users_pb2, tenant_users_pb2_grpc
from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from common.grpc.calls import found
from common.roles import Role
from common.temporal.errors import calling


@dataclass(frozen=True)
class CreateTenantActivityInput:
    tenant_id: str
    slug: str
    display_name: str


@dataclass(frozen=True)
class CreatedTenant:
    tenant_id: str
    slug: str
    display_name: str
    # RFC 3339, as the API writes it.
    created_at: str


@dataclass(frozen=True)
class CreateAdminActivityInput:
    tenant_id: str
    tenant_user_id: str
    email: str
    display_name: str
    # An argon2id hash: no password ever enters a workflow's history.
    password_hash: str


@dataclass(frozen=True)
class CreatedAdmin:
    tenant_user_id: str


@dataclass(frozen=True)
class UndoSignupActivityInput:
    tenant_id: str
    tenant_user_id: str


@dataclass(frozen=True)
class UndoneSignup:
    removed_tenant: bool
    removed_admin: bool


class SignupActivities:
    """Holds gRPC channels signed as the system, to the tenants and auth services."""

    def __init__(self, tenants: grpc.aio.Channel, auth: grpc.aio.Channel, deadline_seconds: float) -> None:
        self.tenants = tenants_pb2_grpc.TenantsServiceStub(tenants)
        self.users = tenant_users_pb2_grpc.TenantUsersServiceStub(auth)
        self.deadline = deadline_seconds

    @activity.defn(name="signup.create_tenant")
    async def create_tenant(self, input: CreateTenantActivityInput) -> CreatedTenant:
        response = await calling(
            self.tenants.CreateTenant(
                tenants_pb2.CreateTenantInput(
                    tenant_id=input.tenant_id, slug=input.slug, display_name=input.display_name
                ),
                timeout=self.deadline,
            )
        )
        tenant = response.tenant
        return CreatedTenant(
            tenant.tenant_id, tenant.slug, tenant.display_name, tenant.created_at.ToJsonString()
        )

    @activity.defn(name="signup.create_admin")
    async def create_admin(self, input: CreateAdminActivityInput) -> CreatedAdmin:
        """The tenant's first user, an admin; the default password connector comes with it."""
        response = await calling(
            self.users.ProvisionTenantUser(
                tenant_users_pb2.ProvisionTenantUserInput(
                    tenant_id=input.tenant_id,
                    tenant_user_id=input.tenant_user_id,
                    email=input.email,
                    display_name=input.display_name,
                    role=Role.ADMIN,
                    password_hash=input.password_hash,
                ),
                timeout=self.deadline,
            )
        )
        return CreatedAdmin(response.tenant_user.tenant_user_id)

    @activity.defn(name="signup.undo")
    async def undo_signup(self, input: UndoSignupActivityInput) -> UndoneSignup:
        """Compensation: remove the admin and the tenant, whichever exist; done twice, it is a no-op."""
        removed_admin = await calling(
            found(
                self.users.DeleteTenantUser(
                    tenant_users_pb2.DeleteTenantUserInput(
                        tenant_id=input.tenant_id, tenant_user_id=input.tenant_user_id
                    ),
                    timeout=self.deadline,
                )
            )
        )
        removed_tenant = await calling(
            found(
                self.tenants.DeleteTenant(
                    tenants_pb2.DeleteTenantInput(tenant_id=input.tenant_id), timeout=self.deadline
                )
            )
        )
        return UndoneSignup(removed_tenant=removed_tenant, removed_admin=removed_admin)
