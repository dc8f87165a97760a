"""Who a session cookie belongs to, asked of the auth service on every request.

No cache: a revoked or logged-out session must stop working at once, and the auth service
reads its read-write pool for this, never a lagging replica.
"""

from __future__ import annotations

import grpc

from central.auth.v1 import sessions_pb2, sessions_pb2_grpc
from common.grpc.channels import principal_metadata
from common.principal import Principal, PrincipalKind, PrincipalSigner


class SessionValidator:
    def __init__(self, channel: grpc.aio.Channel, signer: PrincipalSigner, deadline_seconds: float) -> None:
        self._validate = sessions_pb2_grpc.SessionsServiceStub(channel).ValidateSession
        self._signer = signer
        self._deadline = deadline_seconds

    async def principal(self, token: str, anonymous: Principal) -> Principal | None:
        """The tenant user behind `token`, or None when the session is not valid now."""
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
        session = response.session
        return Principal(
            kind=PrincipalKind.USER,
            tenant_id=session.tenant_id,
            tenant_user_id=session.tenant_user_id,
            role=session.role,
            session_id=session.session_id,
            client_address=anonymous.client_address,
            user_agent=anonymous.user_agent,
        )
