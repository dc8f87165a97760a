"""The gateway's follower of session changes: trusted while it hears auth, untrusted once auth is silent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc

from central.auth.v1 import sessions_pb2
from common.keys import Issuer
from services.gateway.session_cache import SessionCache
from services.gateway.session_changes import SessionChangeFollower
from tests.gateway.test_session_cache import Clock
from tests.support.principals import SIGNERS


def auth(beat: float, beats: int) -> grpc.GenericRpcHandler:
    """An auth service whose stream is caught up, beats `beats` times `beat` seconds apart, then is silent."""

    async def watch(request: Any, context: Any) -> AsyncIterator[sessions_pb2.WatchSessionChangesResponse]:
        for _ in range(beats + 1):
            yield sessions_pb2.WatchSessionChangesResponse(caught_up=True)
            await asyncio.sleep(beat)
        await asyncio.sleep(3600)

    return grpc.method_handlers_generic_handler(
        "central.auth.v1.SessionsService",
        {
            "WatchSessionChanges": grpc.unary_stream_rpc_method_handler(
                watch,
                request_deserializer=sessions_pb2.WatchSessionChangesInput.FromString,
                response_serializer=sessions_pb2.WatchSessionChangesResponse.SerializeToString,
            )
        },
    )


async def until(cache: SessionCache, trusted: bool) -> None:
    started = time.perf_counter()
    while cache.trusted is not trusted:
        assert time.perf_counter() - started < 5
        await asyncio.sleep(0.005)


async def trusted_for(beats: int) -> float:
    """How long a follower with a 0.3 s silence bound trusts a stream of `beats` heartbeats 0.1 s apart."""
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((auth(0.1, beats),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    cache = SessionCache(Clock(), 10)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    follower = SessionChangeFollower(
        channel, SIGNERS[Issuer.GATEWAY].to("auth"), cache, 10.0, silence_seconds=0.3
    )
    follower.start()
    try:
        await until(cache, trusted=True)
        since = time.perf_counter()
        await until(cache, trusted=False)
        return time.perf_counter() - since
    finally:
        await follower.close()
        await channel.close()
        await server.stop(0)


async def test_heartbeats_keep_the_cache_trusted_and_silence_ends_it() -> None:
    # Five beats 0.1 s apart are 0.5 s of trust, then 0.3 s of silence at most: longer than the
    # silence bound alone, and ended by it.
    trusted = await trusted_for(beats=5)
    assert 0.5 <= trusted < 1.5
