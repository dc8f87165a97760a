"""Who a session cookie belongs to: from the cache while it is trusted, else asked of the auth service.

The auth service reads its read-write pool for this, never a lagging replica. An answer is
kept only if no session change arrived while it was being fetched (services/gateway/session_cache.py).
"""

from __future__ import annotations

from datetime import timedelta

import grpc

from central.auth.v1 import sessions_pb2, sessions_pb2_grpc
from common.grpc.channels import principal_metadata
from common.principal import AudienceSigner, Principal, PrincipalKind
from services.gateway.routes import Route
from services.gateway.session_cache import CachedSession, SessionCache, token_key
from services.gateway.session_use import SessionUseLog

_AUTH_PACKAGE = sessions_pb2.DESCRIPTOR.package


class SessionValidator:
    def __init__(
        self,
        channel: grpc.aio.Channel,
        signer: AudienceSigner,
        deadline_seconds: float,
        cache: SessionCache,
        uses: SessionUseLog,
    ) -> None:
        self._validate = sessions_pb2_grpc.SessionsServiceStub(channel).ValidateSession
        self._signer = signer
        self._deadline = deadline_seconds
        self.cache = cache
        self._uses = uses

    async def principal(self, token: str, anonymous: Principal) -> Principal | None:
        """The tenant user behind `token`, or None when the session is not valid now."""
        key = token_key(token)
        session = self.cache.get(key)
        if session is not None:
            self._uses.used(session.session_id, session.last_used_at, session.idle_timeout)
        else:
            session = await self._ask_auth(key, token, anonymous)
            if session is None:
                return None
        return Principal(
            kind=PrincipalKind.USER,
            tenant_id=session.tenant_id,
            tenant_user_id=session.tenant_user_id,
            role=session.role,
            session_id=session.session_id,
            client_address=anonymous.client_address,
            user_agent=anonymous.user_agent,
        )

    async def _ask_auth(self, key: bytes, token: str, anonymous: Principal) -> CachedSession | None:
        generation = self.cache.generation
        try:
            response = await self._validate(
                sessions_pb2.ValidateSessionInput(session_token=token),
                timeout=self._deadline,
                metadata=principal_metadata(self._signer, anonymous),
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.UNAUTHENTICATED:
                return None
            raise
        holder = response.session
        now = self.cache.clock.now()
        session = CachedSession(
            session_id=holder.session_id,
            tenant_id=holder.tenant_id,
            tenant_user_id=holder.tenant_user_id,
            role=holder.role,
            expires_at=holder.expires_at.ToDatetime(now.tzinfo),
            idle_timeout=timedelta(seconds=holder.idle_timeout_seconds),
            last_used_at=now,
        )
        self.cache.put(key, session, generation)
        return session

    def after_call(self, route: Route, principal: Principal) -> None:
        """Before the answer leaves: a change made to the auth domain (logout, revocation, offboarding,
        a connector disabled) may end sessions of the caller's tenant, so none of them is trusted."""
        if route.http_method != "GET" and route.service.file.package == _AUTH_PACKAGE and principal.tenant_id:
            self.cache.forget_sessions(tenant_id=principal.tenant_id)
