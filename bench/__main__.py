"""`make bench`: the gateway's tenant lookup against the same lookup as a direct gRPC call.

Every process runs as in production (separate processes on loopback); the load comes from
this process. Figures vary with the machine; compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import secrets
from collections.abc import Awaitable, Callable

import grpc
import uvloop

from bench.load import HttpConnection, Result, run_load
from bench.stack import running_processes
from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc


def print_table(results: list[Result], baseline: dict[int, Result]) -> None:
    columns = ("conc", "req/s", "p50 ms", "p99 ms", "errors", "vs direct")
    print(f"{'scenario':<44}", *(f"{c:>9}" for c in columns))
    for r in results:
        base = baseline.get(r.concurrency)
        ratio = f"{r.rps / base.rps:.2f}x" if base else ""
        figures = (r.concurrency, f"{r.rps:.0f}", f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}", r.errors, ratio)
        print(f"{r.name:<44}", *(f"{f:>9}" for f in figures))


async def main(seconds: float) -> None:
    async with running_processes() as stack:
        slug = f"bench-{secrets.token_hex(4)}"
        async with grpc.aio.insecure_channel(stack.tenants_address) as channel:
            await tenants_pb2_grpc.TenantsServiceStub(channel).CreateTenant(
                tenants_pb2.CreateTenantInput(slug=slug, display_name="Bench"), timeout=5
            )

        async def http_worker() -> Callable[[], Awaitable[bool]]:
            connection = await HttpConnection.open("127.0.0.1", stack.gateway_port)

            async def request() -> bool:
                return await connection.get(f"/tenants/by-slug/{slug}") == 200

            return request

        channel = grpc.aio.insecure_channel(stack.tenants_address)
        stub = tenants_pb2_grpc.TenantsServiceStub(channel)

        async def grpc_worker() -> Callable[[], Awaitable[bool]]:
            async def request() -> bool:
                response = await stub.GetTenantBySlug(tenants_pb2.GetTenantBySlugInput(slug=slug), timeout=5)
                return response.tenant.slug == slug

            return request

        results: list[Result] = []
        direct: dict[int, Result] = {}
        for concurrency in (1, 32):
            d = await run_load("GetTenantBySlug, direct gRPC", concurrency, seconds, grpc_worker)
            direct[concurrency] = d
            g = await run_load("GET /tenants/by-slug/{slug} via gateway", concurrency, seconds, http_worker)
            results += [d, g]
        await channel.close()
        print_table(results, direct)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per scenario")
    uvloop.run(main(parser.parse_args().seconds))
