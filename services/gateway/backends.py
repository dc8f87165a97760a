"""Where a route's rpc runs: a service over its long-lived channel, or the gateway itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import grpc
from google.protobuf.message import Message

from services.gateway.routes import Route

LocalHandler = Callable[[Any], Awaitable[Message]]


Metadata = tuple[tuple[str, str], ...]


class Backend(Protocol):
    async def call(
        self, route: Route, request: Message, deadline_seconds: float, metadata: Metadata
    ) -> Message: ...


class GrpcBackend:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.channel = channel
        self._callables: dict[str, grpc.aio.UnaryUnaryMultiCallable[Message, Message]] = {}

    def _callable(self, route: Route) -> grpc.aio.UnaryUnaryMultiCallable[Message, Message]:
        found = self._callables.get(route.rpc_path)
        if found is None:
            found = self.channel.unary_unary(
                route.rpc_path,
                request_serializer=route.input_type.SerializeToString,
                response_deserializer=route.output_type.FromString,
            )
            self._callables[route.rpc_path] = found
        return found

    async def call(
        self, route: Route, request: Message, deadline_seconds: float, metadata: Metadata
    ) -> Message:
        return await self._callable(route)(request, timeout=deadline_seconds, metadata=metadata)


class LocalBackend:
    """Rpcs the gateway answers in-process (its probes), keyed by method name."""

    def __init__(self, handlers: dict[str, LocalHandler]) -> None:
        self.handlers = handlers

    async def call(
        self, route: Route, request: Message, deadline_seconds: float, metadata: Metadata
    ) -> Message:
        return await self.handlers[route.method.name](request)
