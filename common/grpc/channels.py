"""Client side: one long-lived channel per service, and the principal each call carries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc

from common.deadlines import bounded
from common.grpc.tls import LOOPBACK_PLAINTEXT, Transport
from common.principal import METADATA_KEY, SYSTEM, AudienceSigner, Principal

CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    # Central retries nothing implicitly; transparent retries cost every call ~10% of its CPU.
    ("grpc.enable_retries", 0),
]


def principal_metadata(signer: AudienceSigner, principal: Principal) -> tuple[tuple[str, str], ...]:
    return ((METADATA_KEY, signer.sign(principal)),)


class _SignAs(grpc.aio.UnaryUnaryClientInterceptor):
    """Attaches a freshly signed principal to every call of a channel, and passes the deadline down:
    a call made while serving an rpc gets no more time than that rpc has left."""

    def __init__(self, signer: AudienceSigner, principal: Principal) -> None:
        self.signer = signer
        self.principal = principal

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        metadata = [*(client_call_details.metadata or ()), *principal_metadata(self.signer, self.principal)]
        details = grpc.aio.ClientCallDetails(
            client_call_details.method,
            bounded(client_call_details.timeout),
            grpc.aio.Metadata(*metadata),
            client_call_details.credentials,
            client_call_details.wait_for_ready,
        )
        return await continuation(details, request)


def open_channel(
    address: str, interceptors: Sequence[Any] = (), *, transport: Transport = LOOPBACK_PLAINTEXT
) -> grpc.aio.Channel:
    """A channel whose calls carry the principal each caller attaches itself (the gateway)."""
    return transport.dial(address, CHANNEL_OPTIONS, interceptors)


def open_stream_channel(address: str, *, transport: Transport = LOOPBACK_PLAINTEXT) -> grpc.aio.Channel:
    """A channel of its own for one long-lived stream: its connection, and its reconnection
    back-off, are not shared with the channel that carries requests."""
    return transport.dial(address, [*CHANNEL_OPTIONS, ("grpc.use_local_subchannel_pool", 1)])


def open_system_channel(
    address: str,
    signer: AudienceSigner,
    interceptors: Sequence[Any] = (),
    *,
    transport: Transport = LOOPBACK_PLAINTEXT,
    server_name: str | None = None,
) -> grpc.aio.Channel:
    """A channel whose every call is signed as the system (operator commands, services, workers),
    for the one process `signer` is bound to."""
    signed = [*interceptors, _SignAs(signer, SYSTEM)]
    return transport.dial(address, CHANNEL_OPTIONS, signed, server_name=server_name)
