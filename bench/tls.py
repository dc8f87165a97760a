"""What mutual TLS costs between two processes on one machine: `python -m bench.tls`.

One real server (common/grpc/server.py, health only) per transport on loopback, a client with
the certificates `central certs` makes. Two figures per transport: one unary rpc on a channel
that is already connected (every call but the first on Central's long-lived channels), and a
new connection's first rpc (the handshake: paid once per channel and reconnection).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import uvloop

from cli.certs import issue_all
from common.config import Config, TlsFiles, TlsSettings
from common.container import Container
from common.grpc.channels import open_channel
from common.grpc.health import serving
from common.grpc.server import start_server
from common.grpc.tls import LOOPBACK_PLAINTEXT, Transport


def _transport(folder: Path) -> Transport:
    return Transport.from_settings(
        TlsSettings(files=TlsFiles(folder / "cert.pem", folder / "key.pem", folder / "ca.pem"))
    )


async def _median_ms(address: str, client: Transport, calls: int, connections: int) -> tuple[float, float]:
    async with open_channel(address, transport=client) as channel:
        assert await serving(channel)
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            assert await serving(channel)
            times.append(time.perf_counter() - started)
    firsts = []
    for _ in range(connections):
        started = time.perf_counter()
        async with open_channel(address, transport=client) as channel:
            assert await serving(channel)
        firsts.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, statistics.median(firsts) * 1000


async def measure(calls: int, connections: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as home:
        container = Container.create(Config.from_env({"CENTRAL_HOME": home}))
        certificates = Path(home) / "certs"
        issue_all(certificates, ["localhost", "client"])
        results: dict[str, tuple[float, float]] = {}
        for label, server_side, client_side in [
            ("plaintext", LOOPBACK_PLAINTEXT, LOOPBACK_PLAINTEXT),
            ("mutual TLS", _transport(certificates / "localhost"), _transport(certificates / "client")),
        ]:
            server = await start_server(
                "127.0.0.1:0", lambda server, guard: [], container.verifier, transport=server_side
            )
            try:
                results[label] = await _median_ms(f"localhost:{server.port}", client_side, calls, connections)
            finally:
                await server.stop(grace=0)
        await container.close()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=100)
    args = parser.parse_args()
    results = uvloop.run(measure(args.calls, args.connections))
    plain_call, plain_connect = results["plaintext"]
    print(f"{'':12} {'unary rpc (ms)':>15} {'new connection + rpc (ms)':>27}")
    for label, (call, connect) in results.items():
        print(f"{label:12} {call:15.3f} {connect:27.3f}")
    tls_call, tls_connect = results["mutual TLS"]
    print(f"{'ratio':12} {tls_call / plain_call:15.2f} {tls_connect / plain_connect:27.2f}")


if __name__ == "__main__":
    main()
