"""`make bench`: Central's hot paths, each beside its yardstick, as ratios within one run.

Every process runs as in production (separate processes on loopback); the load comes from
this process, closed-loop. Figures vary with the machine; compare ratios within one run.
Each row also gives the CPU time each process spent per request (user plus system, from
/proc/<pid>/stat over the measured stretch); PostgreSQL's own processes are not counted.

- GET /tenants/by-slug/{slug} through the gateway, beside the same lookup as direct gRPC.
- Cookie-authenticated GET /tenants/{tenantId} (the gateway, from its session cache and tenant
  rows once warm; auth and tenants otherwise), beside a
  FastAPI monolith doing the same two reads in-process under 2 uvicorn workers, in
  alternating turns (--rounds, 3 by default); each figure is the median of its turns.
- The delay of a revocation through one gateway to another gateway replica (on another auth
  replica), p50 and p99 over REVOCATIONS logouts; the same for a tenant's rename (PATCH through
  the first gateway, seen by the second's tenant rows); the first gateway's cache hit ratios.
- Password logins per second (argon2id, OWASP parameters).
- Signups per second, each a SignupWorkflow on the core queue, with their p50 and p99.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import httpx
import uvloop

from bench.cache_hits import cache_lookups
from bench.cpu import children
from bench.load import HttpConnection, Result, median_of, run_load
from bench.propagation import p50_p99_ms, revocation_delays, tenant_change_delays
from bench.stack import Processes, running_monolith, running_processes
from central.auth.v1 import tenant_users_pb2, tenant_users_pb2_grpc
from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from common.config import Config
from common.container import Container
from common.grpc.channels import open_system_channel
from common.roles import Role

Worker = Callable[[], Awaitable[Callable[[], Awaitable[bool]]]]
PASSWORD = "correct horse battery staple"
COOKIE = "__Host-central-session"
REVOCATIONS = 120


def print_table(rows: list[tuple[Result, Result | None]]) -> None:
    columns = ("conc", "req/s", "p50 ms", "p99 ms", "errors", "ratio", "p99 ratio")
    print(f"{'scenario':<52}", *(f"{c:>8}" for c in columns), "  CPU µs per request, by process")
    for result, baseline in rows:
        ratio = f"{result.rps / baseline.rps:.2f}x" if baseline else ""
        p99_ratio = f"{result.p99_ms / baseline.p99_ms:.2f}x" if baseline else ""
        figures = (
            result.concurrency,
            f"{result.rps:.0f}",
            f"{result.p50_ms:.2f}",
            f"{result.p99_ms:.2f}",
            result.errors,
            ratio,
            p99_ratio,
        )
        cpu = ", ".join(f"{name} {us:.0f}" for name, us in result.cpu_us.items())
        print(f"{result.name:<52}", *(f"{f:>8}" for f in figures), f"  {cpu}")


def cpu_of(named: dict[str, int]) -> Callable[[], dict[str, list[int]]]:
    """The processes to report CPU time for, each with its children (uvicorn's workers), and
    this load generator itself."""

    def processes() -> dict[str, list[int]]:
        return {
            **{name: [pid, *children(pid)] for name, pid in named.items()},
            "load generator": [os.getpid()],
        }

    return processes


def http_get(port: int, path: str, headers: str = "") -> Worker:
    async def worker() -> Callable[[], Awaitable[bool]]:
        connection = await HttpConnection.open("127.0.0.1", port)

        async def request() -> bool:
            return await connection.get(path, headers) == 200

        return request

    return worker


async def seed(stack: Processes) -> tuple[tenants_pb2.TenantPublic, str, str]:
    """A tenant, its admin and a session token (by logging in through the gateway)."""
    signer = Container.create(Config.from_env(stack.env)).system_signer
    async with open_system_channel(stack.tenants_address, signer.to("tenants")) as channel:
        tenant = (
            await tenants_pb2_grpc.TenantsServiceStub(channel).CreateTenant(
                tenants_pb2.CreateTenantInput(slug=f"bench-{secrets.token_hex(4)}", display_name="Bench"),
                timeout=5,
            )
        ).tenant
    email = "bench@example.com"
    async with open_system_channel(stack.auth_address, signer.to("auth")) as channel:
        await tenant_users_pb2_grpc.TenantUsersServiceStub(channel).CreateTenantUser(
            tenant_users_pb2.CreateTenantUserInput(
                tenant_id=tenant.tenant_id,
                email=email,
                display_name="Bench",
                role=Role.ADMIN,
                password=PASSWORD,
            ),
            timeout=10,
        )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.gateway_port}") as http:
        response = await http.post(
            "/auth/password-login", json={"tenantId": tenant.tenant_id, "email": email, "password": PASSWORD}
        )
        response.raise_for_status()
        token = response.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
    return tenant, email, token


async def main(seconds: float, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="central-bench-out-") as out:
        await measure(seconds, rounds, Path(out) / "gateway.log")


async def measure(seconds: float, rounds: int, gateway_log: Path) -> None:
    rows: list[tuple[Result, Result | None]] = []
    async with running_processes(gateway_log) as stack:
        tenant, email, token = await seed(stack)
        cookie = f"Cookie: {COOKIE}={token}\r\n"

        channel = grpc.aio.insecure_channel(stack.tenants_address)
        signer = Container.create(Config.from_env(stack.env)).system_signer.to("tenants")
        system_channel = open_system_channel(stack.tenants_address, signer)
        stub = tenants_pb2_grpc.TenantsServiceStub(system_channel)

        async def grpc_worker() -> Callable[[], Awaitable[bool]]:
            async def request() -> bool:
                response = await stub.GetTenantBySlug(
                    tenants_pb2.GetTenantBySlugInput(slug=tenant.slug), timeout=5
                )
                return response.tenant.slug == tenant.slug

            return request

        database = {"postgres": stack.pids["postgres"]} if "postgres" in stack.pids else {}
        services = cpu_of({"tenants": stack.pids["tenants"], **database})
        central_processes = cpu_of(
            {**{name: stack.pids[name] for name in ("gateway", "auth", "tenants")}, **database}
        )
        for concurrency in (1, 32):
            direct = await run_load(
                "by slug: direct gRPC to tenants", concurrency, seconds, grpc_worker, services
            )
            gateway = await run_load(
                "by slug: GET /tenants/by-slug/{slug} via gateway",
                concurrency,
                seconds,
                http_get(stack.gateway_port, f"/tenants/by-slug/{tenant.slug}"),
                central_processes,
            )
            rows += [(direct, None), (gateway, direct)]

        async with running_monolith(stack.env) as (monolith_port, monolith_pid):
            path = f"/tenants/{tenant.tenant_id}"
            for concurrency in (1, 32):
                # In alternating turns, so that the machine's other work weighs on both alike.
                yardsticks, centrals = [], []
                for _ in range(rounds):
                    yardsticks.append(
                        await run_load(
                            "cookie: FastAPI monolith, 2 workers",
                            concurrency,
                            seconds,
                            http_get(monolith_port, path, cookie),
                            cpu_of({"monolith (uvicorn and workers)": monolith_pid, **database}),
                        )
                    )
                    centrals.append(
                        await run_load(
                            "cookie: GET /tenants/{id} via gateway",
                            concurrency,
                            seconds,
                            http_get(stack.gateway_port, path, cookie),
                            central_processes,
                        )
                    )
                rows += [(median_of(yardsticks), None), (median_of(centrals), median_of(yardsticks))]

        delays = await revocation_delays(
            stack.gateway_port, stack.gateway_2_port, tenant.tenant_id, email, PASSWORD, REVOCATIONS
        )
        renames = await tenant_change_delays(
            stack.gateway_port, stack.gateway_2_port, tenant.tenant_id, token, REVOCATIONS
        )

        async def login_worker() -> Callable[[], Awaitable[bool]]:
            http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.gateway_port}")
            body = {"tenantId": tenant.tenant_id, "email": email, "password": PASSWORD}

            async def request() -> bool:
                return (await http.post("/auth/password-login", json=body)).status_code == 200

            return request

        rows.append((await run_load("password logins via gateway", 4, seconds, login_worker), None))

        async def signup_worker() -> Callable[[], Awaitable[bool]]:
            http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.gateway_port}", timeout=30)

            async def request() -> bool:
                body = {
                    "tenantSlug": f"s-{secrets.token_hex(6)}",
                    "tenantDisplayName": "Signup",
                    "email": "founder@example.com",
                    "password": PASSWORD,
                    "displayName": "Founder",
                }
                return (await http.post("/signup", json=body)).status_code == 200

            return request

        rows.append((await run_load("signups via gateway (Temporal saga)", 4, seconds, signup_worker), None))
        await channel.close()
        await system_channel.close()
    print_table(rows)
    p50, p99 = p50_p99_ms(delays)
    print(f"revocation to another gateway replica: p50 {p50:.2f} ms, p99 {p99:.2f} ms over {len(delays)}")
    p50, p99 = p50_p99_ms(renames)
    print(f"tenant rename to another gateway replica: p50 {p50:.2f} ms, p99 {p99:.2f} ms over {len(renames)}")
    for cache in ("session cache", "tenant rows"):
        lookups = cache_lookups(gateway_log, cache)
        if lookups is None:
            print(f"{cache} hit ratio: not reported")
            continue
        hits, misses = lookups
        print(
            f"{cache} hit ratio (gateway 1, whole run): {hits / max(1, hits + misses):.4f}"
            f" ({hits} hits, {misses} misses)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per scenario")
    parser.add_argument(
        "--rounds", type=int, default=3, help="turns of the monolith and the gateway (medians shown)"
    )
    arguments = parser.parse_args()
    uvloop.run(main(arguments.seconds, arguments.rounds))
