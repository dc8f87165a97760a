"""Server side of the error contract: every failure leaves a service as one proper status."""

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

logger = get_logger("grpc")

Handler = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


async def _abort(context: grpc.aio.ServicerContext[Any, Any], error: DomainError) -> None:
    status = rpc_status.to_status(error.to_rpc_status())
    await context.abort(status.code, status.details, status.trailing_metadata)


def _guarded(method: str, handler: Handler) -> Handler:
    async def guarded(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
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


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Maps domain errors, deadlines and database outages to statuses; hides everything else."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        return grpc.unary_unary_rpc_method_handler(
            # A grpc.aio server only holds coroutine handlers; the stubs describe the sync ones.
            _guarded(handler_call_details.method, cast(Handler, handler.unary_unary)),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
