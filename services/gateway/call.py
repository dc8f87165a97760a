"""The innermost handler: the input transcoded, the rpc called, its answer as JSON (and cookies)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

import grpc
from google.protobuf.message import Message

from central.api.v1 import options_pb2
from common.grpc.channels import principal_metadata
from common.lists import CursorResumer
from common.principal import Principal, PrincipalSigner
from services.gateway.backends import Backend
from services.gateway.errors import HttpError
from services.gateway.exchange import Exchange, Headers, Scope
from services.gateway.routes import Route, marked_field
from services.gateway.security import NO_STORE, PreLoginCookie, SessionCookie
from services.gateway.tenant_rows import TenantRowAnswers
from services.gateway.transcode import TranscodeError, decode_input, encode_output
from services.gateway.upstreams import audiences


class CallRpc:
    def __init__(
        self,
        backends: dict[str, Backend],
        *,
        signer: PrincipalSigner,
        cookie: SessionCookie,
        cursors: CursorResumer,
        rpc_timeout: float,
        after_call: Callable[[Route, Principal], None] = lambda route, principal: None,
        tenant_rows: TenantRowAnswers | None = None,
    ) -> None:
        self.backends = backends
        self.tenant_rows = tenant_rows
        self.after_call = after_call
        # Each service's principals are signed for the process that serves it.
        self.signers = {name: signer.to(process) for name, process in audiences().items()}
        self.cookie = cookie
        self.cursors = cursors
        self.rpc_timeout = rpc_timeout
        self.pre_login_cookie = PreLoginCookie()

    async def __call__(self, exchange: Exchange) -> None:
        match, principal = exchange.match, exchange.principal
        assert match is not None and match.route is not None and principal is not None
        route = match.route
        try:
            query = _query(exchange.scope)
            request = decode_input(route, match.variables, query, exchange.body, self.cursors)
        except TranscodeError as error:
            raise HttpError(400, grpc.StatusCode.INVALID_ARGUMENT, str(error), "INVALID_REQUEST") from None
        pre_login_input = marked_field(route.input_descriptor, options_pb2.pre_login_token)
        if pre_login_input is not None:
            # Only ever the cookie's value, whatever the query said.
            cookie = self.pre_login_cookie.read(exchange.headers.get(b"cookie"))
            setattr(request, pre_login_input.name, cookie or "")
        backend = self.backends[route.service.full_name]

        def rpc() -> Awaitable[Message]:
            return backend.call(route, request, self.rpc_timeout, self._metadata(route, principal))

        rows = self.tenant_rows
        response = await (rpc() if rows is None else rows.call(route, request, principal, rpc))
        self.after_call(route, principal)
        headers = self._headers(route, response)
        if pre_login_input is not None:
            headers.append((b"set-cookie", self.pre_login_cookie.clear()))
        redirect = marked_field(route.method.output_type, options_pb2.redirect_to)
        if redirect is not None and (location := getattr(response, redirect.name)):
            await exchange.respond(302, b"", [(b"location", location.encode()), *headers])
            return
        body = encode_output(response, route.gateway_only_fields)
        await exchange.respond(200, body, headers)

    def _metadata(self, route: Route, principal: Principal) -> tuple[tuple[str, str], ...]:
        signer = self.signers.get(route.service.full_name)
        # The gateway's own routes (its probes) are answered in-process: no principal leaves it.
        return () if signer is None else principal_metadata(signer, principal)

    def _headers(self, route: Route, response: Message) -> Headers:
        extra: Headers = []
        pre_login_output = marked_field(route.method.output_type, options_pb2.pre_login_token)
        if pre_login_output is not None and (pre_login := getattr(response, pre_login_output.name)):
            extra.append((b"set-cookie", self.pre_login_cookie.set(pre_login)))
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
