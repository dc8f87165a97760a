"""`python -m bench.grpc_hop`: the floor of one grpc.aio hop, under each gRPC setting, in turns.

A server process answering gRPC's health Check from memory and a client process calling it
one call at a time (concurrency 1, the case where a hop's latency is all of its cost), both on
uvloop as Central's processes are. Each setting runs in fresh processes, since gRPC reads
GRPC_EXPERIMENTS once, when it is imported. Prints calls per second, p50 and p99, and the CPU
per call of each side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time

from bench.cpu import cpu_seconds
from common.ports import free_port, wait_for_port

SETTINGS = {
    "gRPC default (EventEngine client and listener)": "",
    "central (-event_engine_client,-event_engine_listener)": "-event_engine_client,-event_engine_listener",
}


async def serve(port: int) -> None:
    import grpc
    from grpc_health.v1 import health, health_pb2_grpc

    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


async def call(port: int, seconds: float) -> None:
    import grpc
    from grpc_health.v1 import health_pb2

    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.enable_retries", 0)]
    ) as channel:
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        request = health_pb2.HealthCheckRequest()
        for _ in range(500):
            await check(request, timeout=5)
        latencies: list[float] = []
        cpu_before = time.process_time()
        stop_at = time.perf_counter() + seconds
        while (started := time.perf_counter()) < stop_at:
            await check(request, timeout=5)
            latencies.append(time.perf_counter() - started)
        cpu = time.process_time() - cpu_before
    quantiles = statistics.quantiles(latencies, n=100)
    print(json.dumps({"calls": len(latencies), "p50": quantiles[49], "p99": quantiles[98], "cpu": cpu}))


async def one_run(experiments: str, seconds: float) -> dict[str, float]:
    env = {key: value for key, value in os.environ.items() if key != "GRPC_EXPERIMENTS"}
    if experiments:
        env["GRPC_EXPERIMENTS"] = experiments
    port = free_port()
    me = [sys.executable, "-m", "bench.grpc_hop"]
    server = await asyncio.create_subprocess_exec(*me, "--serve", str(port), env=env)
    try:
        await wait_for_port(port)
        server_cpu = cpu_seconds(server.pid)
        client = await asyncio.create_subprocess_exec(
            *me, "--call", str(port), "--seconds", str(seconds), env=env, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await client.communicate()
        server_cpu = cpu_seconds(server.pid) - server_cpu
    finally:
        server.terminate()
        await server.wait()
    result: dict[str, float] = json.loads(out)
    # The server also answered the client's 500 warm-up calls.
    result["server_cpu"] = server_cpu * result["calls"] / (result["calls"] + 500)
    return result


async def main(seconds: float, rounds: int) -> None:
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in SETTINGS}
    for _ in range(rounds):
        for name, experiments in SETTINGS.items():
            runs[name].append(await one_run(experiments, seconds))
    print(f"load average {os.getloadavg()[0]:.2f}; medians of {rounds} runs of {seconds:.0f} s")
    print(f"{'setting':<56} {'calls/s':>8} {'p50 µs':>8} {'p99 µs':>8} {'client µs':>10} {'server µs':>10}")
    for name, results in runs.items():

        def median(key: str, results: list[dict[str, float]] = results) -> float:
            return statistics.median(r[key] / (r["calls"] if key.endswith("cpu") else 1) for r in results)

        print(
            f"{name:<56} {median('calls') / seconds:>8.0f} {median('p50') * 1e6:>8.0f}"
            f" {median('p99') * 1e6:>8.0f} {median('cpu') * 1e6:>10.0f} {median('server_cpu') * 1e6:>10.0f}"
        )


if __name__ == "__main__":
    import uvloop

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--call", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=3.0, help="measured time per run")
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    if arguments.serve:
        uvloop.run(serve(arguments.serve))
    elif arguments.call:
        uvloop.run(call(arguments.call, arguments.seconds))
    else:
        uvloop.run(main(arguments.seconds, arguments.rounds))
