"""The gateway's session cache: deadlines, bounds, LRU, changes, and the fail-closed states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest

from central.auth.v1 import sessions_pb2
from common.keys import Issuer
from common.principal import Principal, PrincipalKind
from services.gateway.routes import RouteTable
from services.gateway.session_cache import CachedSession, SessionCache, token_key
from services.gateway.session_changes import apply_change
from services.gateway.session_use import SessionUseLog
from services.gateway.sessions import SessionValidator
from tests.support.principals import SIGNERS


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def session(clock: Clock, n: int = 1, *, user: str = "", tenant: str = "t1") -> CachedSession:
    return CachedSession(
        session_id=f"s{n}",
        tenant_id=tenant,
        tenant_user_id=user or f"u{n}",
        role="member",
        expires_at=clock.now() + timedelta(hours=24),
        idle_timeout=timedelta(minutes=30),
        last_used_at=clock.now(),
    )


def trusted_cache(clock: Clock, max_entries: int = 10) -> SessionCache:
    cache = SessionCache(clock, max_entries)
    cache.trust()
    return cache


def test_an_untrusted_cache_answers_nothing_and_keeps_nothing() -> None:
    clock = Clock()
    cache = SessionCache(clock, 10)
    assert not cache.put(b"k", session(clock), cache.generation)
    assert cache.get(b"k") is None and len(cache) == 0


def test_a_trusted_cache_answers_what_it_was_given() -> None:
    clock = Clock()
    cache = trusted_cache(clock)
    assert cache.put(b"k", session(clock), cache.generation)
    found = cache.get(b"k")
    assert found is not None and found.session_id == "s1"
    assert (cache.hits, cache.misses) == (1, 0)


def test_losing_the_stream_empties_the_cache_and_regaining_it_starts_empty() -> None:
    clock = Clock()
    cache = trusted_cache(clock)
    cache.put(b"k", session(clock), cache.generation)
    cache.distrust()
    assert cache.get(b"k") is None and len(cache) == 0
    cache.trust()
    assert cache.get(b"k") is None


def test_an_answer_fetched_while_a_change_arrived_is_not_kept() -> None:
    clock = Clock()
    cache = trusted_cache(clock)
    started = cache.generation
    cache.forget_sessions(session_id="s1")
    assert not cache.put(b"k", session(clock), started)
    started = cache.generation
    cache.distrust()
    cache.trust()
    assert not cache.put(b"k", session(clock), started)
    assert cache.get(b"k") is None


def test_changes_drop_the_session_user_or_tenant_they_name() -> None:
    clock = Clock()
    cache = trusted_cache(clock)
    cache.put(b"a", session(clock, 1, user="u1", tenant="t1"), cache.generation)
    cache.put(b"b", session(clock, 2, user="u1", tenant="t1"), cache.generation)
    cache.put(b"c", session(clock, 3, user="u3", tenant="t1"), cache.generation)
    cache.put(b"d", session(clock, 4, user="u4", tenant="t2"), cache.generation)
    apply_change(cache, sessions_pb2.WatchSessionChangesResponse(session_id="s3"))
    assert cache.get(b"c") is None and cache.get(b"a") is not None
    apply_change(cache, sessions_pb2.WatchSessionChangesResponse(tenant_user_id="u1"))
    assert cache.get(b"a") is None and cache.get(b"b") is None
    assert cache.get(b"d") is not None
    apply_change(cache, sessions_pb2.WatchSessionChangesResponse(tenant_id="t2"))
    assert len(cache) == 0


def test_a_change_it_does_not_understand_makes_the_cache_untrusted() -> None:
    clock = Clock()
    cache = trusted_cache(clock)
    cache.put(b"a", session(clock), cache.generation)
    apply_change(cache, sessions_pb2.WatchSessionChangesResponse())
    assert not cache.trusted and len(cache) == 0
    apply_change(cache, sessions_pb2.WatchSessionChangesResponse(caught_up=True))
    assert cache.trusted


def test_the_absolute_and_idle_deadlines_hold() -> None:
    clock = Clock()
    cache = trusted_cache(clock)
    cache.put(b"k", session(clock), cache.generation)
    for _ in range(47):  # used every 29 minutes: never idle ...
        clock.at += timedelta(minutes=29)
        if clock.at >= datetime(2026, 1, 2, tzinfo=UTC):
            break
        assert cache.get(b"k") is not None
    clock.at = datetime(2026, 1, 2, tzinfo=UTC)  # ... until the absolute expiry.
    assert cache.get(b"k") is None
    cache.put(b"i", session(clock), cache.generation)
    clock.at += timedelta(minutes=30)
    assert cache.get(b"i") is None


def test_the_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    clock = Clock()
    cache = trusted_cache(clock, max_entries=2)
    cache.put(b"a", session(clock, 1), cache.generation)
    cache.put(b"b", session(clock, 2), cache.generation)
    assert cache.get(b"a") is not None
    cache.put(b"c", session(clock, 3), cache.generation)
    assert len(cache) == 2
    assert cache.get(b"b") is None
    assert cache.get(b"a") is not None and cache.get(b"c") is not None


def test_the_key_is_a_hash_never_the_token() -> None:
    assert token_key("a-token") != b"a-token" and len(token_key("a-token")) == 32
    with pytest.raises(ValueError, match="max_entries"):
        SessionCache(Clock(), 0)


async def test_a_change_served_by_this_gateway_drops_the_tenants_sessions_before_the_answer() -> None:
    clock = Clock()
    cache = trusted_cache(clock)
    cache.put(b"mine", session(clock, 1, tenant="t1"), cache.generation)
    cache.put(b"other", session(clock, 2, tenant="t2"), cache.generation)
    routes = {
        route.method.name: route
        for route in RouteTable.from_services(
            [sessions_pb2.DESCRIPTOR.services_by_name["SessionsService"]]
        ).routes
    }
    async with grpc.aio.insecure_channel("127.0.0.1:1") as channel:
        validator = SessionValidator(
            channel, SIGNERS[Issuer.GATEWAY].to("auth"), 1.0, cache, SessionUseLog(clock)
        )
        caller = Principal(PrincipalKind.USER, tenant_id="t1", tenant_user_id="u1", session_id="s1")
        validator.after_call(routes["ListMySessions"], caller)
        assert len(cache) == 2
        validator.after_call(routes["Logout"], caller)
        assert cache.get(b"mine") is None and cache.get(b"other") is not None


def test_a_heartbeat_keeps_what_the_cache_holds() -> None:
    clock = Clock()
    cache = trusted_cache(clock)
    cache.put(b"a", session(clock), cache.generation)
    apply_change(cache, sessions_pb2.WatchSessionChangesResponse(caught_up=True))
    assert cache.get(b"a") is not None
