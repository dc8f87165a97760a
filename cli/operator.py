"""Operator commands: talk to the services over gRPC and print the response as the gateway would."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable

import grpc
from google.protobuf.message import Message

from central.auth.v1 import (
    auth_connectors_pb2,
    auth_connectors_pb2_grpc,
    tenant_users_pb2,
    tenant_users_pb2_grpc,
)
from central.tenants.v1 import tenants_pb2, tenants_pb2_grpc
from common.config import Config
from common.container import Container
from common.grpc.channels import open_system_channel
from services.gateway.transcode import encode_output

Call = Callable[[grpc.aio.Channel, float], Awaitable[Message]]


def tenants_create(slug: str, display_name: str) -> Call:
    async def call(channel: grpc.aio.Channel, deadline_seconds: float) -> Message:
        stub = tenants_pb2_grpc.TenantsServiceStub(channel)
        return await stub.CreateTenant(
            tenants_pb2.CreateTenantInput(slug=slug, display_name=display_name), timeout=deadline_seconds
        )

    return call


def tenants_get(tenant_id: str) -> Call:
    async def call(channel: grpc.aio.Channel, deadline_seconds: float) -> Message:
        stub = tenants_pb2_grpc.TenantsServiceStub(channel)
        return await stub.GetTenant(tenants_pb2.GetTenantInput(tenant_id=tenant_id), timeout=deadline_seconds)

    return call


def tenants_list(limit: int | None, cursor: str | None) -> Call:
    async def call(channel: grpc.aio.Channel, deadline_seconds: float) -> Message:
        stub = tenants_pb2_grpc.TenantsServiceStub(channel)
        request = (
            tenants_pb2.ListTenantsInputOrCursor(cursor=cursor)
            if cursor
            else tenants_pb2.ListTenantsInputOrCursor(input=tenants_pb2.ListTenantsInput(limit=limit))
        )
        return await stub.ListTenants(request, timeout=deadline_seconds)

    return call


def users_create(tenant_id: str, email: str, display_name: str, role: str, password: str) -> Call:
    async def call(channel: grpc.aio.Channel, deadline_seconds: float) -> Message:
        stub = tenant_users_pb2_grpc.TenantUsersServiceStub(channel)
        request = tenant_users_pb2.CreateTenantUserInput(
            tenant_id=tenant_id, email=email, display_name=display_name, role=role, password=password
        )
        return await stub.CreateTenantUser(request, timeout=deadline_seconds)

    return call


def reencrypt_secrets() -> Call:
    async def call(channel: grpc.aio.Channel, deadline_seconds: float) -> Message:
        stub = auth_connectors_pb2_grpc.AuthConnectorsServiceStub(channel)
        return await stub.ReencryptSecrets(
            auth_connectors_pb2.ReencryptSecretsInput(), timeout=deadline_seconds
        )

    return call


def read_password() -> str:
    """The password from standard input: one line, as a pipe or a prompt gives it."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\r\n")


async def run(config: Config, process: str, call: Call) -> int:
    """Make `call` to the process named `process`, as the system."""
    container = Container.create(config)
    address, signer = str(config.address(process)), container.system_signer.to(process)
    async with open_system_channel(address, signer, transport=container.transport) as channel:
        try:
            response = await call(channel, config.rpc_timeout_seconds)
        except grpc.aio.AioRpcError as error:
            print(f"{error.code().name}: {error.details()}", file=sys.stderr)
            return 1
    sys.stdout.buffer.write(encode_output(response) + b"\n")
    return 0
