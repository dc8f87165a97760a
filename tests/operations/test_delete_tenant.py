"""`central tenants delete`: a tenant and all that each domain holds for it go (users and their sessions,
auth connectors, transcription jobs); run again, it is a no-op."""

from __future__ import annotations

import json

import psycopg

from services.tenants.ids import TenantIds
from tests.media.audio_samples import tone_wav
from tests.media.test_transcription_jobs import submit
from tests.operations.test_processes import central_env, run_central
from tests.support.actors import COOKIE, PASSWORD, login, signed_in
from tests.support.stack import Stack


async def test_an_operator_deletes_a_tenant_and_all_it_holds(stack: Stack) -> None:
    admin = await signed_in(stack)
    member = await signed_in(stack, role="member", tenant=admin.tenant)
    sso = {
        "name": "sso",
        "kind": "oidc",
        "oidc": {"issuer": "https://id.example", "clientId": "c", "clientSecret": "s"},
    }
    created = await stack.http.post(
        f"/tenants/{admin.tenant_id}/auth-connectors", json=sso, headers=admin.cookie
    )
    assert created.status_code == 200, created.text
    assert (await submit(stack, member, tone_wav(1.0))).status_code == 200
    env = central_env(stack, CENTRAL_AUTH_ADDR=stack.auth_address, CENTRAL_MEDIA_ADDR=stack.media_address)

    deleted = await run_central(env, "tenants", "delete", admin.tenant_id)
    assert deleted.returncode == 0, deleted.stderr
    expected = {
        "tenantId": admin.tenant_id,
        "deletedTenant": True,
        "deletedUsers": 2,
        "deletedAuthConnectors": 2,
        "deletedTranscriptionJobs": 1,
    }
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
        for table in ("auth.auth_connectors", "media.transcription_jobs"):
            cursor = await conn.execute(
                f"SELECT count(*) FROM {table} WHERE tenant_id = %s", (TenantIds.to_uuid(admin.tenant_id),)
            )
            assert await cursor.fetchone() == (0,), table

    again = await run_central(env, "tenants", "delete", admin.tenant_id)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["deletedTenant"] is False
