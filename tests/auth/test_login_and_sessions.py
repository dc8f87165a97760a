"""Password login, the session cookie, logout, revocation, expiry and throttling."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from datetime import timedelta

import grpc
import httpx
import psycopg
import pytest
from argon2 import PasswordHasher

from central.auth.v1 import sessions_pb2, sessions_pb2_grpc
from common.config import Config
from common.container import Container
from common.grpc.channels import open_system_channel
from common.grpc.server import start_server
from common.temporal.dispatcher import TemporalDispatcher
from services.auth.server import registrar as auth_registrar
from services.auth.sessions import hash_token
from services.auth.throttle import hash_key
from services.identity.workflows.session_cleanup import SessionCleanupInput, SessionCleanupWorkflow
from tests.support.actors import (
    COOKIE,
    PASSWORD,
    fresh_address,
    login,
    new_tenant,
    new_user,
    session_token,
    signed_in,
)
from tests.support.stack import Stack, running_gateway


async def test_login_sets_a_safe_cookie_and_answers_the_private_user(stack: Stack) -> None:
    tenant = await new_tenant(stack)
    user = await new_user(stack, tenant.tenant_id, email="Ada@Example.com")
    response = await login(stack, tenant.tenant_id, "ada@example.COM", PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"tenantUser"}
    me = body["tenantUser"]
    assert (me["__type"], me["tenantUserId"], me["email"], me["role"]) == (
        "TenantUserPrivate",
        user.tenant_user_id,
        "Ada@Example.com",
        "admin",
    )
    assert me["lastLoginAt"].endswith("Z")
    [cookie] = response.headers.get_list("set-cookie")
    token = session_token(response)
    assert len(token) >= 43  # 256 random bits
    assert token not in response.text
    attributes = {a.strip().split("=", 1)[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "secure", "path", "samesite", "max-age"} <= attributes
    assert "SameSite=Lax" in cookie and "Path=/;" in cookie and "Domain" not in cookie
    assert response.headers["cache-control"] == "no-store"


async def test_every_wrong_part_gets_the_same_401(stack: Stack) -> None:
    admin = await signed_in(stack)
    disabled_tenant = await new_tenant(stack)
    disabled_user = await new_user(stack, disabled_tenant.tenant_id)
    disabler = await signed_in(stack, tenant=disabled_tenant)
    connectors = await stack.http.get(
        f"/tenants/{disabled_tenant.tenant_id}/auth-connectors", headers=disabler.cookie
    )
    [password_connector] = connectors.json()["authConnectors"]
    # Single sign-on keeps the tenant a way in: its last enabled connector could not be disabled.
    sso = await stack.http.post(
        f"/tenants/{disabled_tenant.tenant_id}/auth-connectors",
        json={
            "name": "sso",
            "kind": "oidc",
            "oidc": {"issuer": "https://id.example.com", "clientId": "c", "clientSecret": "s"},
        },
        headers=disabler.cookie,
    )
    assert sso.status_code == 200, sso.text
    disabled = await stack.http.post(
        f"/tenants/{disabled_tenant.tenant_id}/auth-connectors/{password_connector['authConnectorId']}/disable",
        headers=disabler.cookie,
    )
    assert disabled.status_code == 200 and disabled.json()["authConnector"]["enabled"] is False

    other = await new_tenant(stack)
    attempts = [
        (other.tenant_id, admin.user.email, PASSWORD),  # unknown tenant for that email
        ("tenant-01ARZ3NDEKTSV4RRFFQ69G5FAV", admin.user.email, PASSWORD),  # no such tenant
        ("not-an-id", admin.user.email, PASSWORD),
        (admin.tenant_id, "nobody@example.com", PASSWORD),  # unknown email
        (admin.tenant_id, admin.user.email, PASSWORD + "!"),  # wrong password
        (admin.tenant_id, admin.user.email, ""),
        (disabled_tenant.tenant_id, disabled_user.email, PASSWORD),  # disabled connector
    ]
    bodies = set()
    for tenant_id, email, password in attempts:
        response = await login(stack, tenant_id, email, password)
        assert response.status_code == 401, (tenant_id, email, response.text)
        assert "set-cookie" not in response.headers
        bodies.add(response.text)
    assert len(bodies) == 1
    assert '"INVALID_CREDENTIALS"' in bodies.pop()


async def test_a_cookie_sent_to_login_is_never_reused(stack: Stack) -> None:
    admin = await signed_in(stack)
    response = await login(stack, admin.tenant_id, admin.user.email, PASSWORD, headers=admin.cookie)
    assert response.status_code == 200
    assert session_token(response) != admin.token


async def test_me_needs_a_valid_cookie_and_a_dead_one_is_cleared(stack: Stack) -> None:
    admin = await signed_in(stack)
    me = await stack.http.get("/me", headers=admin.cookie)
    assert me.status_code == 200
    assert me.json()["tenantUser"]["tenantUserId"] == admin.user.tenant_user_id
    assert (await stack.http.get("/me")).status_code == 401
    forged = await stack.http.get("/me", headers={"cookie": f"{COOKIE}={'A' * 43}"})
    assert forged.status_code == 401
    assert forged.headers["set-cookie"].startswith(f"{COOKIE}=; Max-Age=0")


async def test_logout_revokes_the_session_and_clears_the_cookie(stack: Stack) -> None:
    admin = await signed_in(stack)
    response = await stack.http.post("/auth/logout", headers=admin.cookie)
    assert (response.status_code, response.json()) == (200, {})
    assert response.headers["set-cookie"].startswith(f"{COOKIE}=; Max-Age=0")
    assert (await stack.http.get("/me", headers=admin.cookie)).status_code == 401
    # Without a cookie, or with a dead one, logout still answers and clears.
    again = await stack.http.post("/auth/logout", headers=admin.cookie)
    assert again.status_code == 200
    assert (await stack.http.post("/auth/logout")).status_code == 200


async def test_sessions_are_listed_and_revoked_at_once(stack: Stack) -> None:
    first = await signed_in(stack)
    second_login = await login(
        stack, first.tenant_id, first.user.email, PASSWORD, headers={"user-agent": "Phone/1"}
    )
    second = session_token(second_login)
    listed = await stack.http.get("/me/sessions", headers=first.cookie)
    assert listed.status_code == 200
    sessions = listed.json()["sessions"]
    assert [s["__type"] for s in sessions] == ["SessionPrivate", "SessionPrivate"]
    assert sorted(s["current"] for s in sessions) == [False, True]
    other = next(s for s in sessions if not s["current"])
    assert other["userAgent"] == "Phone/1"
    assert {"sessionId", "createdAt", "lastSeenAt", "expiresAt"} <= set(other)

    revoked = await stack.http.delete(f"/me/sessions/{other['sessionId']}", headers=first.cookie)
    assert (revoked.status_code, revoked.json()) == (200, {})
    assert (await stack.http.get("/me", headers={"cookie": f"{COOKIE}={second}"})).status_code == 401
    assert (await stack.http.get("/me", headers=first.cookie)).status_code == 200
    # Revoking twice, or another user's session, is NOT_FOUND.
    assert (
        await stack.http.delete(f"/me/sessions/{other['sessionId']}", headers=first.cookie)
    ).status_code == 404
    stranger = await signed_in(stack)
    mine = (await stack.http.get("/me/sessions", headers=stranger.cookie)).json()["sessions"][0]["sessionId"]
    assert (await stack.http.delete(f"/me/sessions/{mine}", headers=first.cookie)).status_code == 404
    assert (await stack.http.get("/me", headers=stranger.cookie)).status_code == 200


async def test_idle_and_absolute_expiry(stack: Stack) -> None:
    idle = await signed_in(stack)
    stack.clock.advance(timedelta(hours=23, minutes=59))
    assert (await stack.http.get("/me", headers=idle.cookie)).status_code == 200
    stack.clock.advance(timedelta(hours=24, seconds=1))
    assert (await stack.http.get("/me", headers=idle.cookie)).status_code == 401

    busy = await signed_in(stack)
    lifetime = timedelta(seconds=stack.config.session_ttl_seconds)
    # Used every 20 hours, never idle, the session lives until its absolute lifetime ...
    used_for = timedelta()
    while used_for + timedelta(hours=20) < lifetime:
        stack.clock.advance(timedelta(hours=20))
        used_for += timedelta(hours=20)
        assert (await stack.http.get("/me", headers=busy.cookie)).status_code == 200
    stack.clock.advance(lifetime - used_for - timedelta(minutes=1))
    assert (await stack.http.get("/me", headers=busy.cookie)).status_code == 200
    # ... and not a minute longer, used a minute ago or not.
    stack.clock.advance(timedelta(minutes=1, seconds=1))
    assert (await stack.http.get("/me", headers=busy.cookie)).status_code == 401


async def test_last_seen_is_written_at_most_once_a_minute(stack: Stack) -> None:
    admin = await signed_in(stack)

    async def last_seen() -> object:
        async with await psycopg.AsyncConnection.connect(stack.database_url) as conn:
            cursor = await conn.execute(
                "SELECT last_seen_at FROM auth.sessions WHERE tenant_user_id = ("
                " SELECT tenant_user_id FROM auth.tenant_users WHERE email = %s)",
                (admin.user.email,),
            )
            row = await cursor.fetchone()
            assert row is not None
            return row[0]

    before = await last_seen()
    stack.clock.advance(timedelta(seconds=30))
    await stack.http.get("/me", headers=admin.cookie)
    assert await last_seen() == before
    stack.clock.advance(timedelta(seconds=31))
    await stack.http.get("/me", headers=admin.cookie)
    # The gateway reports use in batches, off the request's path: within its report interval.
    for _ in range(40):
        if await last_seen() != before:
            break
        await asyncio.sleep(0.1)
    assert await last_seen() != before


async def test_failed_logins_are_throttled_per_email_and_per_address(stack: Stack) -> None:
    admin = await signed_in(stack)
    for _ in range(stack.config.login_max_failures_per_email):
        assert (await login(stack, admin.tenant_id, admin.user.email, "wrong password!")).status_code == 401
    throttled = await login(stack, admin.tenant_id, admin.user.email, PASSWORD)
    assert throttled.status_code == 429
    assert throttled.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert 0 < int(throttled.headers["retry-after"]) <= stack.config.login_window_seconds
    stack.clock.advance(timedelta(seconds=stack.config.login_window_seconds + 1))
    assert (await login(stack, admin.tenant_id, admin.user.email, PASSWORD)).status_code == 200

    address = fresh_address()
    other = await signed_in(stack)
    limit = stack.config.login_max_failures_per_address
    results = await asyncio.gather(
        *(
            login(
                stack,
                other.tenant_id,
                f"guess-{i}@example.com",
                "wrong password!",
                {"x-forwarded-for": address},
            )
            for i in range(limit)
        )
    )
    assert {r.status_code for r in results} == {401}
    blocked = await login(stack, other.tenant_id, other.user.email, PASSWORD, {"x-forwarded-for": address})
    assert blocked.status_code == 429
    assert (await login(stack, other.tenant_id, other.user.email, PASSWORD)).status_code == 200


async def test_login_rehashes_a_password_hashed_with_old_parameters(stack: Stack) -> None:
    admin = await signed_in(stack)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    async with await psycopg.AsyncConnection.connect(stack.database_url, autocommit=True) as conn:
        await conn.execute(
            "UPDATE auth.tenant_users SET password_hash = %s WHERE email = %s", (weak, admin.user.email)
        )
        assert (await login(stack, admin.tenant_id, admin.user.email, PASSWORD)).status_code == 200
        cursor = await conn.execute(
            "SELECT password_hash FROM auth.tenant_users WHERE email = %s", (admin.user.email,)
        )
        row = await cursor.fetchone()
    assert row is not None
    assert row[0].startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_revoking_ones_own_session_clears_the_cookie(stack: Stack) -> None:
    admin = await signed_in(stack)
    sessions = (await stack.http.get("/me/sessions", headers=admin.cookie)).json()["sessions"]
    [own] = [s["sessionId"] for s in sessions if s["current"]]
    response = await stack.http.delete(f"/me/sessions/{own}", headers=admin.cookie)
    assert (response.status_code, response.json()) == (200, {})
    assert response.headers["set-cookie"].startswith(f"{COOKIE}=; Max-Age=0")
    assert (await stack.http.get("/me", headers=admin.cookie)).status_code == 401


async def test_guesses_at_once_get_no_further_than_the_per_email_limit(stack: Stack) -> None:
    admin = await signed_in(stack)
    limit = stack.config.login_max_failures_per_email
    results = await asyncio.gather(
        *(login(stack, admin.tenant_id, admin.user.email, "wrong password!") for _ in range(3 * limit))
    )
    statuses = [r.status_code for r in results]
    assert (statuses.count(401), statuses.count(429)) == (limit, 2 * limit)


async def test_a_good_login_clears_the_failures_of_its_email(stack: Stack) -> None:
    admin = await signed_in(stack)
    limit = stack.config.login_max_failures_per_email
    for _ in range(limit - 1):
        assert (await login(stack, admin.tenant_id, admin.user.email, "wrong password!")).status_code == 401
    assert (await login(stack, admin.tenant_id, admin.user.email, PASSWORD)).status_code == 200
    # The count starts again: the owner who finally remembered gets the whole allowance back.
    for _ in range(limit):
        assert (await login(stack, admin.tenant_id, admin.user.email, "wrong password!")).status_code == 401
    assert (await login(stack, admin.tenant_id, admin.user.email, PASSWORD)).status_code == 429


async def test_good_logins_never_use_up_an_addresses_allowance(stack: Stack) -> None:
    # An office behind one address logs in all morning: only failures count.
    admin = await signed_in(stack)
    office = {"x-forwarded-for": fresh_address()}
    for _ in range(stack.config.login_max_failures_per_address + 1):
        response = await login(stack, admin.tenant_id, admin.user.email, PASSWORD, office)
        assert response.status_code == 200


async def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(stack: Stack) -> None:
    # The default: no proxy named. A spray from loopback (which uvicorn would believe by
    # default) that rotates X-Forwarded-For is throttled by the address it really comes from.
    assert Config.from_env({}).trusted_proxies == ()
    config = replace(stack.config, trusted_proxies=())
    real_address = hash_key("address:127.0.0.1")
    target = await signed_in(stack)
    limit = stack.config.login_max_failures_per_address
    try:
        async with (
            running_gateway(Container.create(config)) as url,
            httpx.AsyncClient(base_url=url) as http,
        ):
            statuses = []
            for i in range(limit + 2):
                response = await http.post(
                    "/auth/password-login",
                    json={"tenantId": target.tenant_id, "email": f"guess-{i}@example.com", "password": "x"},
                    headers={"x-forwarded-for": fresh_address()},
                )
                statuses.append(response.status_code)
        # Other tests' failures from loopback may have counted already: a 429 only comes earlier.
        assert statuses[-2:] == [429, 429]
        assert statuses == sorted(statuses) and statuses.count(401) <= limit
        # The same guesses through the stack's gateway, which trusts the test client as its proxy,
        # each come from the address that the proxy names.
        assert (await login(stack, target.tenant_id, target.user.email, PASSWORD)).status_code == 200
    finally:
        async with await psycopg.AsyncConnection.connect(stack.database_url, autocommit=True) as conn:
            await conn.execute("DELETE FROM auth.login_throttles WHERE key_hash = %s", (real_address,))


async def test_a_short_idle_timeout_is_honoured_to_the_second(stack: Stack) -> None:
    # An auth service whose sessions idle out after 30 s, on the stack's database and clock.
    container = Container.create(replace(stack.config, session_idle_seconds=30), process="auth")
    server = await start_server(
        "127.0.0.1:0", await auth_registrar(container, clock=stack.clock), container.verifier
    )
    channel = open_system_channel(f"127.0.0.1:{server.port}", container.system_signer.to("auth"))
    sessions = sessions_pb2_grpc.SessionsServiceStub(channel)

    async def validate(token: str) -> grpc.StatusCode:
        try:
            await sessions.ValidateSession(sessions_pb2.ValidateSessionInput(session_token=token), timeout=5)
        except grpc.aio.AioRpcError as error:
            return error.code()
        return grpc.StatusCode.OK

    try:
        admin = await signed_in(stack)
        # Used every 20 s, it stays alive far beyond 30 s ...
        for _ in range(4):
            stack.clock.advance(timedelta(seconds=20))
            assert await validate(admin.token) == grpc.StatusCode.OK
        # ... and left alone for 31 s, it has ended.
        stack.clock.advance(timedelta(seconds=31))
        assert await validate(admin.token) == grpc.StatusCode.UNAUTHENTICATED
    finally:
        await channel.close()
        await server.stop(grace=1)
        await container.close()


async def test_a_revoked_session_is_refused_at_once_while_the_replica_lags(stack: Stack) -> None:
    if stack.replica is None:
        pytest.skip("needs the embedded PostgreSQL, whose standby the read-only pools read")
    admin = await signed_in(stack)
    other = session_token(await login(stack, admin.tenant_id, admin.user.email, PASSWORD))
    other_cookie = {"cookie": f"{COOKIE}={other}"}
    sessions = (await stack.http.get("/me/sessions", headers=admin.cookie)).json()["sessions"]
    [other_id] = [s["sessionId"] for s in sessions if not s["current"]]
    async with stack.replica.held_behind():
        revoked = await stack.http.delete(f"/me/sessions/{other_id}", headers=admin.cookie)
        assert revoked.status_code == 200
        assert (await stack.http.get("/me", headers=other_cookie)).status_code == 401
        assert (await stack.http.post("/auth/logout", headers=admin.cookie)).status_code == 200
        assert (await stack.http.get("/me", headers=admin.cookie)).status_code == 401
        # The read-only pool would still have let both in.
        async with await psycopg.AsyncConnection.connect(stack.replica.url) as standby:
            cursor = await standby.execute(
                "SELECT count(*) FROM auth.sessions WHERE token_hash = ANY(%s) AND revoked_at IS NULL",
                ([hash_token(admin.token), hash_token(other)],),
            )
            assert await cursor.fetchone() == (2,)


async def test_the_cleanup_schedule_deletes_throttle_keys_whose_window_has_passed(stack: Stack) -> None:
    admin = await signed_in(stack)
    window = timedelta(seconds=stack.config.login_window_seconds)
    gone, kept = (f"{name}-{secrets.token_hex(4)}@example.com" for name in ("gone", "kept"))
    assert (await login(stack, admin.tenant_id, gone, "wrong password!")).status_code == 401
    stack.clock.advance(window + timedelta(seconds=1))
    assert (await login(stack, admin.tenant_id, kept, "wrong password!")).status_code == 401

    async def expired_rows() -> int:
        async with await psycopg.AsyncConnection.connect(stack.database_url) as conn:
            cursor = await conn.execute(
                "SELECT count(*) FROM auth.login_throttles WHERE window_started_at <= %s",
                (stack.clock.now() - window,),
            )
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    before = await expired_rows()
    assert before >= 1
    sessions = sessions_pb2_grpc.SessionsServiceStub(stack.auth_channel)
    one = await sessions.DeleteExpiredLoginThrottles(
        sessions_pb2.DeleteExpiredLoginThrottlesInput(batch_size=1), timeout=5
    )
    assert one.deleted == 1 and await expired_rows() == before - 1
    result = await TemporalDispatcher(stack.temporal).execute(
        SessionCleanupWorkflow.run,
        SessionCleanupInput(ended_seconds_ago=3600, batch_size=1000),
        id=f"session-cleanup-test-{secrets.token_hex(4)}",
    )
    assert result.login_throttles_deleted == before - 1
    assert await expired_rows() == 0
    # The live key still counts its failure: one fewer wrong guess is let through.
    limit = stack.config.login_max_failures_per_email
    for _ in range(limit - 1):
        assert (await login(stack, admin.tenant_id, kept, "wrong password!")).status_code == 401
    assert (await login(stack, admin.tenant_id, kept, "wrong password!")).status_code == 429
