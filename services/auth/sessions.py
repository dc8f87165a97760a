"""Password login and the sessions it opens.

A session token is 256 random bits that only the browser holds; the database keeps its
SHA-256. A session ends at its absolute expiry, after an idle period, or when revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from psycopg import sql
from ulid import ULID

from central.auth.v1 import sessions_pb2 as pb
from central.auth.v1 import tenant_users_pb2
from common.clock import Clock
from common.db.executor import Database, Executor
from common.lists import Cursors
from common.logs import get_logger
from common.principal import Principal, PrincipalKind
from services.auth import errors, rules
from services.auth.auth_connectors import AuthConnectorService
from services.auth.db import SESSION_COLUMNS, TENANT_USER_COLUMNS, SessionRow, TenantUserRow
from services.auth.ids import SessionIds, TenantUserIds
from services.auth.passwords import Passwords
from services.auth.session_changes import announce
from services.auth.tenant_users import TenantUserService
from services.auth.throttle import Limit, LoginThrottle
from services.tenants.ids import TenantIds

# `last_seen_at` is written at most this often, so that validation is a read nearly always;
# a short idle timeout writes it more often (see `SessionPolicy.last_seen_resolution`).
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
_TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    ttl: timedelta
    idle_timeout: timedelta

    @property
    def last_seen_resolution(self) -> timedelta:
        """How stale `last_seen_at` may be: a tenth of the idle timeout, and at most a minute.

        A session used more often than its idle timeout then never idles out, whatever
        the timeout, and a session left alone ends at most a tenth late.
        """
        return min(LAST_SEEN_RESOLUTION, self.idle_timeout / 10)


@dataclass(frozen=True, slots=True)
class _ValidSession:
    session_id: UUID
    tenant_id: UUID
    tenant_user_id: UUID
    role: str
    last_seen_at: datetime
    expires_at: datetime


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class SessionService:
    def __init__(
        self,
        db: Database,
        db_ro: Database,
        cursors: Cursors,
        clock: Clock,
        policy: SessionPolicy,
        passwords: Passwords,
        users: TenantUserService,
        connectors: AuthConnectorService,
        throttle: LoginThrottle,
        max_failures_per_email: int,
        max_failures_per_address: int,
    ) -> None:
        self.db = db
        self.db_ro = db_ro
        self.cursors = cursors
        self.clock = clock
        self.policy = policy
        self.passwords = passwords
        self.users = users
        self.connectors = connectors
        self.throttle = throttle
        self.max_failures_per_email = max_failures_per_email
        self.max_failures_per_address = max_failures_per_address
        self.logger = get_logger(type(self).__name__)

    async def tx_password_login(
        self, input: pb.PasswordLoginInput, principal: Principal
    ) -> tuple[tenant_users_pb2.TenantUserPrivate, str]:
        """Check the password and open a session; every wrong part answers the same 401."""
        email = rules.entered_email(input.email).lower()
        tenant_uuid = TenantIds.to_uuid(input.tenant_id) if TenantIds.guard(input.tenant_id) else None
        email_key = f"email:{tenant_uuid}:{email}"
        limits = [Limit(email_key, self.max_failures_per_email)]
        if principal.client_address:
            limits.append(Limit(f"address:{principal.client_address}", self.max_failures_per_address))
        # Counted before the password is checked, so that guesses at once cannot outrun the count.
        reservation = await self.throttle.tx_reserve(limits)

        user = await self.users.get_by_email(tenant_uuid, email, self.db) if tenant_uuid else None
        plausible = user is not None and len(input.password) <= rules.MAX_PASSWORD_LENGTH
        # Unknown users are checked against a dummy hash, so that they take as long.
        password_ok = await self.passwords.verify(
            user.password_hash if plausible and user else None, input.password
        )
        connector = (
            await self.connectors.get_password_connector(tenant_uuid, self.db) if tenant_uuid else None
        )
        if not (password_ok and user is not None and connector is not None and connector.enabled):
            raise errors.invalid_credentials()

        assert user.password_hash is not None
        if self.passwords.needs_rehash(user.password_hash):
            await self.db.execute(
                "UPDATE auth.tenant_users SET password_hash = %s WHERE tenant_user_id = %s",
                (await self.passwords.hash(input.password), user.tenant_user_id),
            )
        now = self.clock.now()
        async with self.db.transaction() as tx:
            _, token = await self._open_session(user, principal.user_agent, now, tx)
            updated = await tx.fetch_one(
                f"UPDATE auth.tenant_users SET last_login_at = %s WHERE tenant_user_id = %s"
                f" RETURNING {TENANT_USER_COLUMNS}",
                (now, user.tenant_user_id),
                row=TenantUserRow,
            )
        await self.throttle.clear(email_key)
        await self.throttle.release(reservation)
        assert updated is not None
        return self.users.to_tenant_user_private(updated), token

    async def open_for(
        self, user: TenantUserRow, user_agent: str, executor: Executor | None = None
    ) -> tuple[str, str]:
        """A new session for `user`, already read; (session ID, token)."""
        session_uuid, token = await self._open_session(
            user, user_agent, self.clock.now(), executor or self.db
        )
        return SessionIds.to_rich_id(session_uuid), token

    async def _open_session(
        self, user: TenantUserRow, user_agent: str, now: datetime, executor: Executor
    ) -> tuple[UUID, str]:
        session_uuid = ULID().to_uuid()
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        await executor.execute(
            "INSERT INTO auth.sessions (session_id, tenant_id, tenant_user_id, token_hash, user_agent,"
            " created_at, last_seen_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                session_uuid,
                user.tenant_id,
                user.tenant_user_id,
                hash_token(token),
                user_agent[:512],
                now,
                now,
                now + self.policy.ttl,
            ),
        )
        return session_uuid, token

    async def validate(self, token: str, executor: Executor | None = None) -> pb.SessionHolder:
        """Who holds `token` now. Reads the read-write pool: a revocation must hold at once."""
        if not 20 <= len(token) <= 100:
            raise errors.invalid_session()
        now = self.clock.now()
        executor = executor or self.db
        session = await executor.fetch_one(
            "SELECT s.session_id, s.tenant_id, s.tenant_user_id, u.role, s.last_seen_at, s.expires_at"
            " FROM auth.sessions s JOIN auth.tenant_users u USING (tenant_user_id)"
            " WHERE s.token_hash = %s AND s.revoked_at IS NULL AND s.expires_at > %s AND s.last_seen_at > %s",
            (hash_token(token), now, now - self.policy.idle_timeout),
            row=_ValidSession,
        )
        if session is None:
            raise errors.invalid_session()
        if now - session.last_seen_at >= self.policy.last_seen_resolution:
            await executor.execute(
                "UPDATE auth.sessions SET last_seen_at = %s WHERE session_id = %s", (now, session.session_id)
            )
        holder = pb.SessionHolder(
            session_id=SessionIds.to_rich_id(session.session_id),
            tenant_id=TenantIds.to_rich_id(session.tenant_id),
            tenant_user_id=TenantUserIds.to_rich_id(session.tenant_user_id),
            role=session.role,
            idle_timeout_seconds=int(self.policy.idle_timeout.total_seconds()),
        )
        holder.expires_at.FromDatetime(session.expires_at)
        return holder

    async def report_use(self, uses: list[pb.SessionUse]) -> None:
        """When the gateways last saw each session used; never later than now, never moved back."""
        if not uses:
            return
        now = self.clock.now()
        await self.db.execute(
            "UPDATE auth.sessions s SET last_seen_at = GREATEST(s.last_seen_at, LEAST(u.used_at, %s))"
            " FROM unnest(%s::uuid[], %s::timestamptz[]) AS u(session_id, used_at)"
            " WHERE s.session_id = u.session_id AND s.revoked_at IS NULL",
            (
                now,
                [SessionIds.to_uuid(use.session_id, field="session_id") for use in uses],
                [use.last_used_at.ToDatetime(UTC) for use in uses],
            ),
        )

    async def list_my_sessions(
        self, principal: Principal, request: pb.ListMySessionsInputOrCursor, executor: Executor | None = None
    ) -> pb.ListMySessionsResponse:
        page = self.cursors.start(request, pb.ListMySessionsInput)
        now = self.clock.now()
        after = SessionIds.to_uuid(page.after, field="cursor") if page.after else None
        rows = await (executor or self.db).fetch_all(
            sql.SQL(
                f"SELECT {SESSION_COLUMNS} FROM auth.sessions WHERE tenant_user_id = %(user)s"
                " AND revoked_at IS NULL AND expires_at > %(now)s AND last_seen_at > %(idle)s"
            )
            + page.keyset("session_id"),
            {
                "user": TenantUserIds.to_uuid(principal.tenant_user_id),
                "now": now,
                "idle": now - self.policy.idle_timeout,
                **page.keyset_params(after),
            },
            row=SessionRow,
        )
        sessions = [self._to_session_private(row, principal) for row in rows]
        sessions, next_cursor = self.cursors.page_end(page, sessions, lambda s: s.session_id)
        return pb.ListMySessionsResponse(sessions=sessions, next_cursor=next_cursor)

    async def revoke_my_session(self, principal: Principal, session_id: str) -> None:
        async with self.db.transaction() as tx:
            revoked = await tx.execute(
                "UPDATE auth.sessions SET revoked_at = %s"
                " WHERE session_id = %s AND tenant_user_id = %s AND revoked_at IS NULL",
                (
                    self.clock.now(),
                    SessionIds.to_uuid(session_id, field="session_id"),
                    TenantUserIds.to_uuid(principal.tenant_user_id),
                ),
            )
            if not revoked:
                raise errors.session_not_found()
            await announce(tx, "session_id", session_id)

    async def delete_ended(
        self, ended_seconds_ago: int, batch_size: int, executor: Executor | None = None
    ) -> int:
        """Delete up to `batch_size` sessions that expired, idled out or were revoked long enough ago."""
        cutoff = self.clock.now() - timedelta(seconds=ended_seconds_ago)
        return await (executor or self.db).execute(
            "DELETE FROM auth.sessions WHERE session_id IN ("
            " SELECT session_id FROM auth.sessions"
            " WHERE expires_at < %(cutoff)s OR last_seen_at < %(idle_cutoff)s OR revoked_at < %(cutoff)s"
            " LIMIT %(batch)s)",
            {"cutoff": cutoff, "idle_cutoff": cutoff - self.policy.idle_timeout, "batch": batch_size},
        )

    async def delete_expired_login_throttles(self, batch_size: int) -> int:
        return await self.throttle.delete_expired(batch_size)

    async def logout(self, principal: Principal) -> None:
        if principal.kind is PrincipalKind.USER and principal.session_id:
            async with self.db.transaction() as tx:
                await tx.execute(
                    "UPDATE auth.sessions SET revoked_at = %s WHERE session_id = %s AND revoked_at IS NULL",
                    (self.clock.now(), SessionIds.to_uuid(principal.session_id)),
                )
                await announce(tx, "session_id", principal.session_id)

    def _to_session_private(self, row: SessionRow, principal: Principal) -> pb.SessionPrivate:
        session_id = SessionIds.to_rich_id(row.session_id)
        session = pb.SessionPrivate(
            session_id=session_id, user_agent=row.user_agent, current=session_id == principal.session_id
        )
        session.created_at.FromDatetime(row.created_at)
        session.last_seen_at.FromDatetime(row.last_seen_at)
        session.expires_at.FromDatetime(row.expires_at)
        return session
