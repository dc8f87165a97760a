"""What every rpc of every service goes through: principal verification and error mapping.

The principal is verified before the handler runs (UNAUTHENTICATED when missing, forged or
expired) and made the rpc's current principal; every failure leaves as one proper status.
gRPC's own health and reflection services need no principal, so orchestrators can probe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, cast

import grpc
import psycopg
from grpc_status import rpc_status
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout

from common.errors import DomainError
from common.logs import get_logger
from common.principal import METADATA_KEY, PrincipalSigner, set_current_principal

logger = get_logger("grpc")

Handler = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


async def _abort(context: grpc.aio.ServicerContext[Any, Any], error: DomainError) -> None:
    status = rpc_status.to_status(error.to_rpc_status())
    await context.abort(status.code, status.details, status.trailing_metadata)


def _principal_token(context: grpc.aio.ServicerContext[Any, Any]) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == METADATA_KEY and isinstance(value, str):
            return value
    return None


def _guarded(method: str, handler: Handler, signer: PrincipalSigner | None) -> Handler:
    async def guarded(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            if signer is not None:
                set_current_principal(signer.verify(_principal_token(context)))
            # The caller's deadline bounds the work done for it, database included.
            async with asyncio.timeout(context.time_remaining()):
                return await handler(request, context)
        except DomainError as error:
            await _abort(context, error)
        except TimeoutError:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
        except pg_errors.QueryCanceled:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "query cancelled")
        except (psycopg.OperationalError, PoolTimeout):
            logger.warning("%s: database unavailable", method, exc_info=True)
            await context.abort(grpc.StatusCode.UNAVAILABLE, "database unavailable")
        except Exception as error:
            # AbortError from a handler's own context.abort() must pass through untouched.
            if isinstance(error, grpc.aio.AbortError):
                raise
            logger.exception("%s failed", method)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")

    return guarded


_OPEN_PREFIXES = ("/grpc.health.", "/grpc.reflection.")


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    """Verifies principals; maps domain errors, deadlines and database outages; hides the rest."""

    def __init__(self, signer: PrincipalSigner) -> None:
        self.signer = signer

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or (method.startswith(_OPEN_PREFIXES) and handler.unary_unary is None):
            return handler
        if handler.unary_unary is None:
            # A streaming rpc of ours would pass unguarded: refuse it until it has a guard.
            return None
        return grpc.unary_unary_rpc_method_handler(
            # A grpc.aio server only holds coroutine handlers; the stubs describe the sync ones.
            _guarded(
                method,
                cast(Handler, handler.unary_unary),
                None if method.startswith(_OPEN_PREFIXES) else self.signer,
            ),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
