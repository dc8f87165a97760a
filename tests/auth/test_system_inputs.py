"""What auth accepts from a system caller or an admin is bounded: a hash costs no more than ours, a
connector's name decides nothing."""

from __future__ import annotations

import secrets

import grpc
import pytest
from argon2 import PasswordHasher, Type
from ulid import ULID

from central.auth.v1 import tenant_users_pb2, tenant_users_pb2_grpc
from services.auth.passwords import OWASP_HASHER, Passwords
from tests.support.actors import PASSWORD, login, new_tenant, signed_in
from tests.support.stack import Stack

# 4 GiB of memory per verification: one login with it would take the service down.
HUGE = PasswordHasher(memory_cost=4 * 1024 * 1024, time_cost=1, parallelism=1)


def huge_hash() -> str:
    # Made by hand: hashing with those parameters is exactly what must never happen.
    ours = OWASP_HASHER.hash("a long enough password")
    return ours.replace(f"m={OWASP_HASHER.memory_cost},", f"m={HUGE.memory_cost},")


async def provision(stack: Stack, password_hash: str) -> tenant_users_pb2.ProvisionTenantUserResponse:
    tenant = await new_tenant(stack)
    stub = tenant_users_pb2_grpc.TenantUsersServiceStub(stack.auth_channel)
    return await stub.ProvisionTenantUser(
        tenant_users_pb2.ProvisionTenantUserInput(
            tenant_id=tenant.tenant_id,
            tenant_user_id=f"tenantuser-{ULID()}",
            email=f"{secrets.token_hex(4)}@example.com",
            display_name="Provisioned",
            role="admin",
            password_hash=password_hash,
        ),
        timeout=5,
    )


async def test_a_hash_costlier_than_ours_is_refused(stack: Stack) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await provision(stack, huge_hash())
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    response = await provision(stack, await Passwords().hash("a long enough password"))
    assert response.tenant_user.display_name == "Provisioned"


@pytest.mark.parametrize(
    "password_hash",
    [
        huge_hash(),
        OWASP_HASHER.hash("x").replace("t=2,", "t=200,"),
        OWASP_HASHER.hash("x").replace("p=1", "p=64"),
        PasswordHasher(type=Type.I).hash("x"),
        "not a hash",
    ],
)
def test_only_argon2id_within_our_parameters_is_within_them(password_hash: str) -> None:
    assert not Passwords().within_our_parameters(password_hash)
    assert Passwords().within_our_parameters(OWASP_HASHER.hash("x"))


async def test_the_password_connector_is_found_by_kind_not_by_name(stack: Stack) -> None:
    admin = await signed_in(stack)
    connectors = f"/tenants/{admin.tenant_id}/auth-connectors"
    [password] = (await stack.http.get(connectors, headers=admin.cookie)).json()["authConnectors"]
    password_path = f"{connectors}/{password['authConnectorId']}"
    oidc = {"kind": "oidc", "oidc": {"issuer": "https://id.example", "clientId": "c", "clientSecret": "s"}}
    sso = await stack.http.post(connectors, json={"name": "sso", **oidc}, headers=admin.cookie)
    assert sso.status_code == 200, sso.text
    assert (await stack.http.post(f"{password_path}/disable", headers=admin.cookie)).status_code == 200
    assert (await stack.http.delete(password_path, headers=admin.cookie)).status_code == 200
    # An OIDC connector now holds the password connector's old name.
    named = await stack.http.post(connectors, json={"name": "password", **oidc}, headers=admin.cookie)
    assert named.status_code == 200, named.text

    body = {"email": f"{secrets.token_hex(4)}@example.com", "displayName": "U", "role": "member"}
    created = await stack.http.post(
        f"/tenants/{admin.tenant_id}/users", json={**body, "password": PASSWORD}, headers=admin.cookie
    )
    assert created.status_code == 200, created.text
    kinds = {
        c["name"]: c["kind"]
        for c in (await stack.http.get(connectors, headers=admin.cookie)).json()["authConnectors"]
    }
    assert kinds["password"] == "oidc"
    [made] = [name for name, kind in kinds.items() if kind == "password"]
    assert made.startswith("password-")
    assert (await login(stack, admin.tenant_id, body["email"], PASSWORD)).status_code == 200
