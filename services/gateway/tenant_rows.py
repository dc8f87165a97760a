"""`TenantPublic` rows kept by the gateway, so that the routes whose proto says
`answered_from: GATEWAY_CACHE_TENANT_ROWS` (GetTenant, GetTenantBySlug) answer without a hop.

On the session cache's terms (services/gateway/session_cache.py): trusted only while the follower
holds a live, caught-up WatchTenantChanges stream (services/gateway/change_follower.py), empty
on reconnect, and a fill is kept only if nothing changed while its rpc was out. Only positive
answers come from the rows, and only when the rpc would give them: the input passes its rules
and the caller passes the rpc's access; anything else (a miss, a refusal) goes to the rpc, which
words the error as ever. The gateway that serves a change of a tenant drops it before it answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import partial

import grpc
from google.protobuf.message import Message

from central.api.v1 import options_pb2
from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from common.grpc import access, input_rules
from common.principal import AudienceSigner, Principal
from common.tenant_rows import TenantRows
from services.gateway.change_follower import ChangeFollower
from services.gateway.routes import Route, RouteTableError

MAX_CACHED_TENANTS = 100_000
TENANT_ROWS = options_pb2.GATEWAY_CACHE_TENANT_ROWS
_RETRY_SECONDS = 0.2
# Tenants sends a heartbeat every second (common/db/change_hub.py): three missed, and the stream
# is taken for lost.
_SILENCE_SECONDS = 3.0
_TENANT = tenants_pb2.TenantPublic.DESCRIPTOR
_KEYS = ("tenant_id", "slug")


def apply_change(rows: TenantRows[str], change: tenants_pb2.WatchTenantChangesResponse) -> None:
    kind = change.WhichOneof("kind")
    if kind == "caught_up":
        if not rows.trusted:
            rows.trust()
    elif kind == "tenant_id":
        rows.forget(change.tenant_id)
    else:
        # A change this gateway does not understand may alter any row.
        rows.distrust()


def _key_field(route: Route) -> str:
    """The input field the route's row is looked up by; a RouteTableError when it cannot be answered."""
    name = route.method.full_name
    tenant = route.method.output_type.fields_by_name.get("tenant")
    if tenant is None or tenant.message_type is not _TENANT:
        raise RouteTableError(f"{name}: answered from tenant rows, it must answer a `TenantPublic tenant`")
    keys = [key for key in _KEYS if key in route.input_descriptor.fields_by_name]
    if len(keys) != 1 or len(route.input_descriptor.fields) != 1:
        raise RouteTableError(f"{name}: answered from tenant rows, its input must be `tenant_id` or `slug`")
    return keys[0]


class TenantRowAnswers:
    def __init__(self, rows: TenantRows[str], routes: Iterable[Route]) -> None:
        self.rows = rows
        routes = list(routes)
        self._keys = {r.rpc_path: _key_field(r) for r in routes if r.answered_from == TENANT_ROWS}
        # A write to a service whose rows the gateway keeps may change them.
        self._services = {r.service.full_name for r in routes if r.answered_from == TENANT_ROWS}

    async def call(
        self, route: Route, request: Message, principal: Principal, rpc: Callable[[], Awaitable[Message]]
    ) -> Message:
        key = self._keys.get(route.rpc_path)
        if key is not None:
            answer = self._answer(route, request, principal, key)
            return answer if answer is not None else await self._fill(rpc)
        if route.http_method == "GET" or route.service.full_name not in self._services:
            return await rpc()
        try:
            return await rpc()
        finally:
            # Before the answer leaves, and even when it failed: the change may have committed.
            tenant_id = getattr(request, "tenant_id", "")
            if tenant_id:
                self.rows.forget(tenant_id)
            else:
                self.rows.forget_all()

    def _answer(self, route: Route, request: Message, principal: Principal, key: str) -> Message | None:
        if input_rules.violations(request) or not access.allows(route.access, request, principal):
            return None
        value = getattr(request, key)
        row = self.rows.get(value) if key == "tenant_id" else self.rows.get_by_slug(value)
        if row is None:
            return None
        response = route.output_type()
        response.tenant.CopyFrom(row)  # type: ignore[attr-defined]
        return response

    async def _fill(self, rpc: Callable[[], Awaitable[Message]]) -> Message:
        generation = self.rows.generation
        response = await rpc()
        tenant: tenants_pb2.TenantPublic = response.tenant  # type: ignore[attr-defined]
        self.rows.put(tenant.tenant_id, tenant, generation)
        return response


@dataclass(frozen=True, slots=True)
class TenantRowKeeping:
    answers: TenantRowAnswers
    follower: ChangeFollower[tenants_pb2.WatchTenantChangesResponse]

    @classmethod
    def build(
        cls,
        routes: Iterable[Route],
        stream_channel: grpc.aio.Channel,
        signer: AudienceSigner,
        max_cached: int = MAX_CACHED_TENANTS,
    ) -> TenantRowKeeping:
        rows = TenantRows[str](max_cached)
        follower = ChangeFollower(
            stream_channel,
            tenants_pb2_grpc.TenantsServiceStub(stream_channel).WatchTenantChanges,
            tenants_pb2.WatchTenantChangesInput(),
            tenants_pb2.WatchTenantChangesResponse,
            rows,
            partial(apply_change, rows),
            signer,
            _RETRY_SECONDS,
            _SILENCE_SECONDS,
        )
        return cls(TenantRowAnswers(rows, routes), follower)

    @property
    def rows(self) -> TenantRows[str]:
        return self.answers.rows

    def start(self) -> None:
        self.follower.start()

    async def close(self) -> None:
        await self.follower.close()
        await self.follower.channel.close()
