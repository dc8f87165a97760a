"""How long a revocation, and a tenant's change, take to reach another gateway replica.

For revocations, each round opens a session through gateway 1, has gateway 2 (on a second auth replica) answer
it from its cache, logs out through gateway 1, then polls gateway 2 until it refuses the cookie.
The delay runs from the moment the logout's answer arrived to the first refusal, so it includes
one request to gateway 2 (the measurement's floor). For a tenant, each round renames it through
gateway 1 (PATCH) once gateway 2 answers it from its rows, then polls gateway 2 the same way.
"""

from __future__ import annotations

import statistics
import time

import httpx
import orjson

from bench.load import HttpConnection

COOKIE = "__Host-central-session"


async def revocation_delays(
    gateway_1_port: int, gateway_2_port: int, tenant_id: str, email: str, password: str, rounds: int
) -> list[float]:
    """Seconds from each logout's answer on gateway 1 to gateway 2's first 401."""
    delays: list[float] = []
    second = await HttpConnection.open("127.0.0.1", gateway_2_port)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_1_port}") as first:
        for _ in range(rounds):
            response = await first.post(
                "/auth/password-login", json={"tenantId": tenant_id, "email": email, "password": password}
            )
            response.raise_for_status()
            token = response.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
            header = f"Cookie: {COOKIE}={token}\r\n"
            for _ in range(2):
                assert await second.get("/me", header) == 200
            (await first.post("/auth/logout", headers={"cookie": f"{COOKIE}={token}"})).raise_for_status()
            answered = time.perf_counter()
            while await second.get("/me", header) != 401:
                if time.perf_counter() - answered > 5:
                    raise AssertionError("gateway 2 still accepts a session revoked 5 s ago")
            delays.append(time.perf_counter() - answered)
    return delays


async def tenant_change_delays(
    gateway_1_port: int, gateway_2_port: int, tenant_id: str, cookie: str, rounds: int
) -> list[float]:
    """Seconds from each rename's answer on gateway 1 to gateway 2's first answer with the new name."""
    delays: list[float] = []
    path, header = f"/tenants/{tenant_id}", f"Cookie: {COOKIE}={cookie}\r\n"
    second = await HttpConnection.open("127.0.0.1", gateway_2_port)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_1_port}") as first:
        for round_ in range(rounds):
            for _ in range(2):
                assert (await second.fetch(path, header))[0] == 200
            name = f"Bench {round_}"
            response = await first.patch(
                path, json={"displayName": name}, headers={"cookie": f"{COOKIE}={cookie}"}
            )
            response.raise_for_status()
            answered = time.perf_counter()
            while _display_name(await second.fetch(path, header)) != name:
                if time.perf_counter() - answered > 5:
                    raise AssertionError("gateway 2 still answers a tenant renamed 5 s ago")
            delays.append(time.perf_counter() - answered)
    return delays


def _display_name(answer: tuple[int, bytes]) -> str:
    status, body = answer
    assert status == 200, body
    name: str = orjson.loads(body)["tenant"]["displayName"]
    return name


def p50_p99_ms(delays: list[float]) -> tuple[float, float]:
    quantiles = statistics.quantiles(delays, n=100)
    return quantiles[49] * 1000, quantiles[98] * 1000
