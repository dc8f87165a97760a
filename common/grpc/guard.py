"""What every rpc of every service goes through: principal, access, input rules, error mapping.

The principal is verified before the handler runs (UNAUTHENTICATED when missing, forged,
expired or meant for another process) and made the rpc's current principal; then the access
its proto declares is enforced (common/grpc/access.py), then the input is checked against the field rules its
proto declares (INVALID_ARGUMENT naming every bad field); every failure leaves as one
proper status. A database failure is told apart by its cause: a database that cannot be
reached is UNAVAILABLE, a value the database refuses is INVALID_ARGUMENT, any other failed
query is INTERNAL.
Handlers are wrapped once when they are registered: an interceptor would rebuild the
handler on every call, on the hottest path there is. gRPC's own health and reflection
services are not wrapped, so orchestrators can probe without a key.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any, TypeVar, cast

import grpc
import psycopg
from google.protobuf.descriptor import ServiceDescriptor
from grpc_status import rpc_status
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout

from common.deadlines import set_deadline
from common.errors import DomainError, InvalidInputError, ValidationError
from common.grpc import access, input_rules
from common.logs import get_logger
from common.metrics import rpc_duration, rpc_requests
from common.principal import METADATA_KEY, PrincipalVerifier, set_current_principal

logger = get_logger("grpc")

ServicerT = TypeVar("ServicerT")
_CLEANUP_MARGIN = 0.05
# SQLSTATEs of a server that refuses connections or is going away: the database is down.
_UNREACHABLE_STATES = {"53300", "57P01", "57P02", "57P03"}
Handler = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]
StreamHandler = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Any]]


async def _abort(context: grpc.aio.ServicerContext[Any, Any], error: DomainError) -> None:
    status = rpc_status.to_status(error.to_rpc_status())
    await context.abort(status.code, status.details, status.trailing_metadata)


def _principal_token(context: grpc.aio.ServicerContext[Any, Any]) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == METADATA_KEY and isinstance(value, str):
            return value
    return None


def _admit(
    request: Any,
    context: grpc.aio.ServicerContext[Any, Any],
    verifier: PrincipalVerifier,
    rule: access.Access,
) -> None:
    """What every rpc passes before its handler: a verified principal, the declared access, then
    the input's rules (a DomainError otherwise)."""
    set_current_principal(verifier.verify(_principal_token(context)))
    violations = input_rules.violations(request)
    access.enforce(rule, request, violations)
    if violations:
        raise ValidationError(violations)


def _guarded(method: str, handler: Handler, verifier: PrincipalVerifier, rule: access.Access) -> Handler:
    async def guarded(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        started = time.perf_counter()
        try:
            response = await _served(request, context)
        except grpc.aio.AbortError:
            _record(method, context.code(), started)
            raise
        _record(method, grpc.StatusCode.OK, started)
        return response

    async def _served(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            _admit(request, context, verifier, rule)
            # The caller's deadline bounds the work done for it, database included. The handler
            # gives up a little early, so that psycopg can cancel its query on the server before
            # gRPC cancels the rpc's task: a second cancellation would leave the query running.
            remaining = context.time_remaining()
            set_deadline(remaining)
            async with asyncio.timeout(None if remaining is None else max(0.0, remaining - _CLEANUP_MARGIN)):
                return await handler(request, context)
        except DomainError as error:
            await _abort(context, error)
        except TimeoutError:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
        except pg_errors.QueryCanceled:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "query cancelled")
        except PoolTimeout:
            logger.warning("%s: database unavailable", method, exc_info=True)
            await context.abort(grpc.StatusCode.UNAVAILABLE, "database unavailable")
        except psycopg.Error as error:
            await _database_failed(method, error, context)
        except Exception as error:
            # AbortError from a handler's own context.abort() must pass through untouched.
            if isinstance(error, grpc.aio.AbortError):
                raise
            logger.exception("%s failed", method)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")

    return guarded


def _guarded_stream(
    method: str, handler: StreamHandler, verifier: PrincipalVerifier, rule: access.Access
) -> StreamHandler:
    """A server-streaming rpc: the same checks before the first message; no deadline of its own,
    since a stream lasts as long as its caller holds it open."""

    async def guarded(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            _admit(request, context, verifier, rule)
            async for message in handler(request, context):
                yield message
        except DomainError as error:
            code = error.code
            await _abort(context, error)
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
            raise
        except grpc.aio.AbortError:
            code = context.code()
            raise
        except Exception:
            code = grpc.StatusCode.UNAVAILABLE
            logger.warning("%s: stream ended", method, exc_info=True)
            await context.abort(grpc.StatusCode.UNAVAILABLE, "stream ended")
        finally:
            _record(method, code, started)

    return guarded


async def _database_failed(
    method: str, error: psycopg.Error, context: grpc.aio.ServicerContext[Any, Any]
) -> None:
    if _caused_by_input(error):
        # Every input rule passed, yet the database refused a value: a rule is missing.
        logger.warning("%s: the database refused the input (%s)", method, error.sqlstate, exc_info=True)
        await _abort(context, InvalidInputError("a value of the request cannot be stored"))
    elif _unreachable(error):
        logger.warning("%s: database unavailable", method, exc_info=True)
        await context.abort(grpc.StatusCode.UNAVAILABLE, "database unavailable")
    else:
        logger.error("%s: query failed (%s)", method, error.sqlstate, exc_info=True)
        await context.abort(grpc.StatusCode.INTERNAL, "internal error")


def _caused_by_input(error: psycopg.Error) -> bool:
    """Data exceptions (SQLSTATE class 22: too long, NUL, malformed) and limits a value broke (54).

    psycopg raises a client-side DataError, without a SQLSTATE, for a NUL in a text parameter.
    """
    return isinstance(error, (psycopg.DataError, pg_errors.ProgramLimitExceeded))


def _unreachable(error: psycopg.Error) -> bool:
    """A connection that failed or broke (no SQLSTATE, or class 08), or a server refusing work."""
    if not isinstance(error, psycopg.OperationalError):
        return False
    state = error.sqlstate
    return state is None or state.startswith("08") or state in _UNREACHABLE_STATES


def _record(method: str, code: Any, started: float) -> None:
    attributes = {"rpc.method": method, "rpc.status": getattr(code, "name", str(code))}
    rpc_requests.add(1, attributes)
    rpc_duration.record(time.perf_counter() - started, attributes)


class Guard:
    """Wraps a servicer's methods once, at registration, so that no per-call interceptor is needed."""

    def __init__(self, verifier: PrincipalVerifier) -> None:
        self.verifier = verifier

    def __call__(self, servicer: ServicerT, service: ServiceDescriptor) -> ServicerT:
        methods: dict[str, Handler | StreamHandler] = {}
        for method in service.methods:
            if method.client_streaming:
                raise NotImplementedError(f"{method.full_name}: client-streaming rpcs have no guard yet")
            path = f"/{service.full_name}/{method.name}"
            rule = access.declared_access(method)
            input_rules.prepare(method.input_type)
            wrap = _guarded_stream if method.server_streaming else _guarded
            methods[method.name] = wrap(path, getattr(servicer, method.name), self.verifier, rule)
        # The generated add_*_to_server reads the handlers as attributes, once.
        return cast(ServicerT, SimpleNamespace(**methods))
