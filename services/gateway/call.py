"""The innermost handler: the input transcoded, the rpc called, its answer as JSON (and cookies)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

import grpc
from google.protobuf.message import Message

from common.grpc.channels import principal_metadata
from common.lists import Cursors
from common.principal import Principal, PrincipalSigner
from services.gateway.backends import Backend
from services.gateway.errors import HttpError
from services.gateway.exchange import Exchange, Headers, Scope
from services.gateway.routes import Route
from services.gateway.security import NO_STORE, SessionCookie
from services.gateway.transcode import TranscodeError, decode_input, encode_output


class CallRpc:
    def __init__(
        self,
        backends: dict[str, Backend],
        *,
        signer: PrincipalSigner,
        cookie: SessionCookie,
        cursors: Cursors,
        rpc_timeout: float,
        after_call: Callable[[Route, Principal], None] = lambda route, principal: None,
    ) -> None:
        self.backends = backends
        self.after_call = after_call
        self.signer = signer
        self.cookie = cookie
        self.cursors = cursors
        self.rpc_timeout = rpc_timeout

    async def __call__(self, exchange: Exchange) -> None:
        match, principal = exchange.match, exchange.principal
        assert match is not None and match.route is not None and principal is not None
        route = match.route
        try:
            query = _query(exchange.scope)
            request = decode_input(route, match.variables, query, exchange.body, self.cursors)
        except TranscodeError as error:
            raise HttpError(400, grpc.StatusCode.INVALID_ARGUMENT, str(error), "INVALID_REQUEST") from None
        response = await self.backends[route.service.full_name].call(
            route, request, self.rpc_timeout, principal_metadata(self.signer, principal)
        )
        self.after_call(route, principal)
        body = encode_output(response, route.gateway_only_fields)
        await exchange.respond(200, body, self._headers(route, response))

    def _headers(self, route: Route, response: Message) -> Headers:
        extra: Headers = []
        if route.session_token_field is not None:
            new_token = getattr(response, route.session_token_field.name)
            if new_token:
                extra.append((b"set-cookie", self.cookie.set(new_token)))
        if route.ends_session_field is not None and getattr(response, route.ends_session_field.name):
            extra.append((b"set-cookie", self.cookie.clear()))
        if not route.is_public or extra:
            extra.append(NO_STORE)
        return extra


def _query(scope: Scope) -> list[tuple[str, str]]:
    raw: bytes = scope.get("query_string", b"")
    if not raw:
        return []
    try:
        return parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=True)
    except (ValueError, UnicodeDecodeError):
        raise HttpError(
            400, grpc.StatusCode.INVALID_ARGUMENT, "malformed query string", "INVALID_REQUEST"
        ) from None
