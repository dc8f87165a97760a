"""Every change that can end or alter a session, told to every auth replica and from them to the gateways.

Announced with NOTIFY in the transaction that makes the change, and fanned out to the gateways'
streams by one LISTEN connection per replica (common/db/change_hub.py).
"""

from __future__ import annotations

from typing import Literal

from central.auth.v1 import sessions_pb2 as pb
from common.db.change_hub import ChangeHub
from common.db.executor import Executor

CHANNEL = "auth_session_changes"
Scope = Literal["session_id", "tenant_user_id", "tenant_id"]


async def announce(executor: Executor, scope: Scope, rich_id: str) -> None:
    """Announce, inside the caller's transaction, that sessions of `scope` `rich_id` changed."""
    await executor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"{scope}={rich_id}"))


def to_change(payload: str) -> pb.WatchSessionChangesResponse | None:
    scope, _, rich_id = payload.partition("=")
    if not rich_id:
        return None
    if scope == "session_id":
        return pb.WatchSessionChangesResponse(session_id=rich_id)
    if scope == "tenant_user_id":
        return pb.WatchSessionChangesResponse(tenant_user_id=rich_id)
    if scope == "tenant_id":
        return pb.WatchSessionChangesResponse(tenant_id=rich_id)
    return None


class SessionChangeHub(ChangeHub[pb.WatchSessionChangesResponse]):
    def __init__(self, database_url: str) -> None:
        caught_up = pb.WatchSessionChangesResponse(caught_up=True)
        super().__init__(database_url, CHANNEL, to_change, caught_up, "session changes")
