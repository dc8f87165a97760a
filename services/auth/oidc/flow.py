"""Single sign-on through a tenant's OIDC connector: authorization code with PKCE S256.

`start` keeps the flow's state, nonce, verifier and `returnTo` server-side (single use, ten
minutes) under the SHA-256 of a pre-login token that only the browser holds, in a cookie;
`finish` takes the flow back only with that cookie, once, then exchanges the code, verifies
the ID token, resolves the tenant user and opens a session as password login does. The
protocol's parameters are built and parsed by Authlib; the ID token is verified by joserfc.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from central.auth.v1 import sessions_pb2 as pb
from common.clock import Clock
from common.db.executor import Database
from common.logs import get_logger
from common.principal import Principal
from services.auth import errors
from services.auth.auth_connectors import OIDC_DEFAULT_SCOPES, AuthConnectorService
from services.auth.db import AuthConnectorRow
from services.auth.ids import AuthConnectorIds
from services.auth.oidc import id_token
from services.auth.oidc.identities import ExternalIdentities
from services.auth.oidc.provider import ProviderDirectory
from services.auth.oidc.return_to import safe_return_to
from services.auth.sessions import SessionService

FLOW_TTL = timedelta(minutes=10)
CALLBACK_PATH = "/auth/oidc/callback"


@dataclass(frozen=True, slots=True)
class _LoginState:
    auth_connector_id: UUID
    nonce: str
    code_verifier: str
    return_to: str
    expires_at: datetime


class OidcLogin:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        public_url: str,
        connectors: AuthConnectorService,
        providers: ProviderDirectory,
        identities: ExternalIdentities,
        sessions: SessionService,
    ) -> None:
        self.db = db
        self.clock = clock
        self.redirect_uri = public_url + CALLBACK_PATH
        self.connectors = connectors
        self.providers = providers
        self.identities = identities
        self.sessions = sessions
        self.logger = get_logger(type(self).__name__)

    async def start(self, input: pb.StartOidcLoginInput) -> pb.StartOidcLoginResponse:
        return_to = safe_return_to(input.return_to)
        connector = await self._enabled_connector(input.auth_connector_id)
        config = connector.config
        metadata = await self.providers.metadata(config["issuer"])
        state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
        pre_login = secrets.token_urlsafe(32)
        await self.db.execute(
            "INSERT INTO auth.oidc_login_states"
            " (state, pre_login_hash, auth_connector_id, nonce, code_verifier, return_to, expires_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                state,
                _hash(pre_login),
                connector.auth_connector_id,
                nonce,
                verifier,
                return_to,
                self.clock.now() + FLOW_TTL,
            ),
        )
        location = prepare_grant_uri(
            metadata.authorization_endpoint,
            client_id=config["client_id"],
            response_type="code",
            redirect_uri=self.redirect_uri,
            scope=" ".join(_scopes(config)),
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return pb.StartOidcLoginResponse(location=location, pre_login_token=pre_login)

    async def finish(
        self, input: pb.FinishOidcLoginInput, principal: Principal
    ) -> pb.FinishOidcLoginResponse:
        if not input.state or not input.pre_login_token:
            raise errors.sso_refused(
                "OIDC_STATE_MISSING", "the login's state or its pre-login cookie is missing"
            )
        flow = await self._take_state(input.state, input.pre_login_token)
        connector = await self._enabled_connector(AuthConnectorIds.to_rich_id(flow.auth_connector_id))
        if input.error:
            raise errors.sso_refused("OIDC_PROVIDER_ERROR", f"the provider answered {input.error}")
        if not input.code:
            raise errors.sso_refused("OIDC_PROVIDER_ERROR", "the provider sent no code")
        config = connector.config
        metadata = await self.providers.metadata(config["issuer"])
        if input.iss and input.iss != metadata.issuer:
            # RFC 9207: the answer comes from another provider (a mix-up attack).
            raise errors.sso_refused("OIDC_PROVIDER_ERROR", "the answer names another issuer")
        raw_token = await self._exchange(connector, metadata.token_endpoint, input.code, flow.code_verifier)
        kid = id_token.header(raw_token).get("kid")
        keys = await self.providers.keys(metadata, kid if isinstance(kid, str) else None)
        identity = id_token.verify(
            raw_token,
            keys,
            issuer=metadata.issuer,
            client_id=config["client_id"],
            nonce=flow.nonce,
        )
        user = await self.identities.tx_resolve(connector, identity)
        async with self.db.transaction() as tx:
            # As password login does: a fresh session, and the user's last login.
            _, token = await self.sessions.open_for(user, principal.user_agent, tx)
            await tx.execute(
                "UPDATE auth.tenant_users SET last_login_at = %s WHERE tenant_user_id = %s",
                (self.clock.now(), user.tenant_user_id),
            )
        return pb.FinishOidcLoginResponse(location=flow.return_to, session_token=token)

    async def _enabled_connector(self, auth_connector_id: str) -> AuthConnectorRow:
        connector = await self.connectors.get_oidc_connector(auth_connector_id)
        if not connector.enabled:
            raise errors.sso_refused("OIDC_CONNECTOR_DISABLED", "this single sign-on connector is disabled")
        return connector

    async def _take_state(self, state: str, pre_login: str) -> _LoginState:
        """The flow's state, deleted as it is read: a second use finds nothing."""
        row = await self.db.fetch_one(
            "DELETE FROM auth.oidc_login_states WHERE state = %s AND pre_login_hash = %s"
            " RETURNING auth_connector_id, nonce, code_verifier, return_to, expires_at",
            (state, _hash(pre_login)),
            row=_LoginState,
        )
        if row is None or row.expires_at <= self.clock.now():
            raise errors.sso_refused(
                "OIDC_STATE_INVALID", "the login's state is unknown, expired, used, or not this browser's"
            )
        return row

    async def _exchange(
        self, connector: AuthConnectorRow, token_endpoint: str, code: str, verifier: str
    ) -> str:
        config = connector.config
        secret = self.connectors.client_secret(connector)
        fields: dict[str, str] = {"code_verifier": verifier, "redirect_uri": self.redirect_uri}
        # httpx's base Auth adds nothing: the client authenticates in the body instead.
        auth = httpx.Auth()
        if config.get("client_auth_method") == "client_secret_post":
            fields |= {"client_id": config["client_id"], "client_secret": secret}
        else:
            # RFC 6749, section 2.3.1: both parts form-encoded before Basic.
            auth = httpx.BasicAuth(quote(config["client_id"], safe=""), quote(secret, safe=""))
        body = prepare_token_request("authorization_code", code=code, **fields)
        try:
            response = await self.providers.post_form(token_endpoint, body, auth)
        except httpx.HTTPError:
            raise errors.sso_refused(
                "OIDC_PROVIDER_UNAVAILABLE", "the provider's token endpoint did not answer"
            ) from None
        if response.status_code >= 500:
            raise errors.sso_refused("OIDC_PROVIDER_UNAVAILABLE", "the provider's token endpoint failed")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        token = answer.get("id_token") if isinstance(answer, dict) else None
        if response.status_code != 200 or not isinstance(token, str):
            error = answer.get("error") if isinstance(answer, dict) else None
            raise errors.sso_refused(
                "OIDC_TOKEN_EXCHANGE_FAILED",
                f"the provider refused the code ({error or response.status_code})",
            )
        return token


def _scopes(config: dict[str, Any]) -> list[str]:
    scopes = list(config.get("scopes") or OIDC_DEFAULT_SCOPES)
    return scopes if "openid" in scopes else ["openid", *scopes]


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
