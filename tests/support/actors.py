"""Helpers that make tenants, users and sessions for the auth tests."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass

import httpx

from central.auth.v1 import tenant_users_pb2, tenant_users_pb2_grpc
from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from tests.support.stack import Stack

COOKIE = "__Host-central-session"
PASSWORD = "correct horse battery staple"
_addresses = itertools.count(1)


def fresh_address() -> str:
    """A client address of its own, so that throttling in one test never touches another."""
    n = next(_addresses)
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


@dataclass
class Actor:
    tenant: tenants_pb2.TenantPublic
    user: tenant_users_pb2.TenantUser
    password: str
    token: str

    @property
    def tenant_id(self) -> str:
        return self.tenant.tenant_id

    @property
    def cookie(self) -> dict[str, str]:
        return {"cookie": f"{COOKIE}={self.token}"}


async def new_tenant(stack: Stack) -> tenants_pb2.TenantPublic:
    stub = tenants_pb2_grpc.TenantsServiceStub(stack.channel)
    response = await stub.CreateTenant(
        tenants_pb2.CreateTenantInput(slug=f"t-{secrets.token_hex(6)}", display_name="Tenant"), timeout=5
    )
    return response.tenant


async def new_user(
    stack: Stack, tenant_id: str, role: str = "admin", email: str | None = None, password: str = PASSWORD
) -> tenant_users_pb2.TenantUser:
    stub = tenant_users_pb2_grpc.TenantUsersServiceStub(stack.auth_channel)
    response = await stub.CreateTenantUser(
        tenant_users_pb2.CreateTenantUserInput(
            tenant_id=tenant_id,
            email=email or f"u-{secrets.token_hex(4)}@example.com",
            display_name="User",
            role=role,
            password=password,
        ),
        timeout=10,
    )
    return response.tenant_user


async def login(
    stack: Stack, tenant_id: str, email: str, password: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await stack.http.post(
        "/auth/password-login",
        json={"tenantId": tenant_id, "email": email, "password": password},
        headers={"x-forwarded-for": fresh_address(), **(headers or {})},
    )


def session_token(response: httpx.Response) -> str:
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name == COOKIE:
            return rest.split(";", 1)[0]
    raise AssertionError(f"no session cookie in {response.headers}")


async def signed_in(
    stack: Stack, role: str = "admin", tenant: tenants_pb2.TenantPublic | None = None
) -> Actor:
    tenant = tenant or await new_tenant(stack)
    user = await new_user(stack, tenant.tenant_id, role)
    response = await login(stack, tenant.tenant_id, user.email, PASSWORD)
    assert response.status_code == 200, response.text
    return Actor(tenant, user, PASSWORD, session_token(response))
