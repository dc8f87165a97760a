"""What Central knows of an OIDC provider: its discovery document and its keys, cached per issuer.

Every call to a provider has a deadline: a provider that does not answer in time is
unavailable (a 503 for the browser), never a hang.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc.jwk import KeySet

from services.auth import errors

DISCOVERY_TTL_SECONDS = 3600.0
# A token with an unknown `kid` refetches the keys (the provider rotated), at most this often.
JWKS_REFETCH_COOL_DOWN_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(slots=True)
class _Keys:
    keys: KeySet
    fetched_at: float


class ProviderDirectory:
    def __init__(self, timeout_seconds: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        # Logins are rare next to requests: a client per call, nothing to close at shutdown.
        self.timeout = httpx.Timeout(timeout_seconds)
        self.transport = transport
        self._metadata: dict[str, tuple[ProviderMetadata, float]] = {}
        self._keys: dict[str, _Keys] = {}
        self._lock = asyncio.Lock()

    async def metadata(self, issuer: str) -> ProviderMetadata:
        cached = self._metadata.get(issuer)
        if cached is not None and time.monotonic() - cached[1] < DISCOVERY_TTL_SECONDS:
            return cached[0]
        document = await self._get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        try:
            metadata = ProviderMetadata(
                issuer=str(document["issuer"]),
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
                jwks_uri=str(document["jwks_uri"]),
            )
        except KeyError as missing:
            raise _unavailable(f"the provider's discovery document lacks {missing}") from None
        if metadata.issuer != issuer:
            # OpenID Connect Discovery 1.0, section 4.3: the issuer must be the one asked for.
            raise _unavailable("the provider's discovery document names another issuer")
        self._metadata[issuer] = (metadata, time.monotonic())
        return metadata

    async def keys(self, metadata: ProviderMetadata, kid: str | None) -> KeySet:
        """The provider's keys; refetched when `kid` is unknown and the last fetch is old enough."""
        cached = self._keys.get(metadata.issuer)
        if cached is not None and (_has_kid(cached.keys, kid) or _cooling_down(cached)):
            return cached.keys
        async with self._lock:
            cached = self._keys.get(metadata.issuer)
            if cached is not None and (_has_kid(cached.keys, kid) or _cooling_down(cached)):
                return cached.keys
            document = await self._get_json(metadata.jwks_uri)
            try:
                keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
            except (ValueError, TypeError, KeyError):
                raise _unavailable("the provider's key set is not valid") from None
            self._keys[metadata.issuer] = _Keys(keys, time.monotonic())
            return keys

    async def post_form(self, url: str, body: str, auth: httpx.Auth) -> httpx.Response:
        """POST to a provider's endpoint (the token endpoint); httpx.HTTPError when it does not answer."""
        async with self._client() as http:
            return await http.post(
                url,
                content=body,
                auth=auth,
                headers={"content-type": "application/x-www-form-urlencoded", "accept": "application/json"},
            )

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self._client() as http:
                response = await http.get(url, headers={"accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError):
            raise _unavailable("the provider did not answer") from None
        if not isinstance(document, dict):
            raise _unavailable("the provider answered something that is not a JSON object")
        return document

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, transport=self.transport)


def _has_kid(keys: KeySet, kid: str | None) -> bool:
    return kid is None or any(key.kid == kid for key in keys.keys)


def _cooling_down(cached: _Keys) -> bool:
    return time.monotonic() - cached.fetched_at < JWKS_REFETCH_COOL_DOWN_SECONDS


def _unavailable(message: str) -> Exception:
    return errors.sso_refused("OIDC_PROVIDER_UNAVAILABLE", message)
