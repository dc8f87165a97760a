"""`central healthcheck TARGET`: exit 0 when that process (common/processes.py) is ready.

Services answer grpc.health.v1, the gateway its readiness route, and a worker is ready when
Temporal sees it polling its task queue from this host.

Containers use it as their health check, so that no extra binary is needed in the image.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

from common.config import Config
from common.grpc.channels import CHANNEL_OPTIONS
from common.grpc.health import serving
from common.grpc.tls import LOOPBACK_PLAINTEXT, Transport, own_address
from common.processes import PROCESSES, Health


async def grpc_ready(
    address: str,
    deadline_seconds: float = 2.0,
    transport: Transport = LOOPBACK_PLAINTEXT,
    server_name: str | None = None,
) -> bool:
    """With TLS, the server must hold the certificate of `server_name` (the process checked):
    the address dialled is its own, not the name its certificate carries."""
    async with transport.dial(address, CHANNEL_OPTIONS, server_name=server_name) as channel:
        return await serving(channel, deadline_seconds=deadline_seconds)


def gateway_ready(config: Config, timeout: float = 2.0) -> bool:
    url = f"http://{config.gateway_addr}/meta/readiness-probe"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


async def worker_ready(config: Config, queue: str) -> bool:
    """A worker of this host polls `queue` (a worker's identity is pid@host)."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    from common.temporal.client import connect

    try:
        client = await connect(config)
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=config.temporal_namespace,
                task_queue=TaskQueue(name=queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
    except RuntimeError:
        return False
    host = socket.gethostname()
    return any(poller.identity.endswith(f"@{host}") for poller in response.pollers)


async def healthcheck(config: Config, target: str) -> int:
    process = next(p for p in PROCESSES if p.healthcheck_target == target)
    match process.health:
        case Health.READINESS:
            ready = gateway_ready(config)
        case Health.POLLER:
            ready = await worker_ready(config, str(process.queue))
        case Health.GRPC:
            transport = Transport.from_settings(config.tls)
            ready = await grpc_ready(
                own_address(config.address(process.name)), transport=transport, server_name=process.name
            )
    print("ready" if ready else "not ready")
    return 0 if ready else 1
