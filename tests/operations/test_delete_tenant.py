"""`central tenants delete`: a tenant and its users go, their sessions with them; run again, it is a no-op."""

from __future__ import annotations

import json

import psycopg

from tests.operations.test_processes import central_env, run_central
from tests.support.actors import COOKIE, PASSWORD, login, signed_in
from tests.support.stack import Stack


async def test_an_operator_deletes_a_tenant_its_users_and_their_sessions(stack: Stack) -> None:
    admin = await signed_in(stack)
    member = await signed_in(stack, role="member", tenant=admin.tenant)
    env = central_env(stack, CENTRAL_AUTH_ADDR=stack.auth_address)

    deleted = await run_central(env, "tenants", "delete", admin.tenant_id)
    assert deleted.returncode == 0, deleted.stderr
    expected = {"tenantId": admin.tenant_id, "deletedTenant": True, "deletedUsers": 2}
    assert json.loads(deleted.stdout) == expected

    assert (await stack.http.get(f"/tenants/by-slug/{admin.tenant.slug}")).status_code == 404
    for actor in (admin, member):
        me = await stack.http.get("/me", headers={"cookie": f"{COOKIE}={actor.token}"})
        assert me.status_code == 401
    assert (await login(stack, admin.tenant_id, admin.user.email, PASSWORD)).status_code == 401
    async with await psycopg.AsyncConnection.connect(stack.database_url) as conn:
        cursor = await conn.execute(
            "SELECT count(*) FROM auth.tenant_users WHERE email = ANY(%s)",
            ([admin.user.email, member.user.email],),
        )
        assert await cursor.fetchone() == (0,)

    again = await run_central(env, "tenants", "delete", admin.tenant_id)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["deletedTenant"] is False
