"""Sandbox mode at the gRPC edge: every call says that its data is simulated.

MarketData calls carry ``x-data-mode: sandbox`` in their initial and trailing metadata from
their edge (``Edge.marks``), next to ``x-request-id``: initial metadata can be sent only
once, and the edge sends it. The standard services (health, reflection) have no edge, so
an interceptor sends the mark before their handlers run.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from entrypoints.grpc.errors import Metadata
from entrypoints.sandbox import DATA_MODE

SANDBOX_METADATA: Metadata = (("x-data-mode", DATA_MODE),)

Behavior = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Any]
# The RpcMethodHandler field holding the behavior, by (request streaming, response streaming).
_KINDS = {
    (False, False): "unary_unary",
    (False, True): "unary_stream",
    (True, False): "stream_unary",
    (True, True): "stream_stream",
}


def _marked(behavior: Behavior, marks: Metadata) -> Behavior:
    """``behavior`` sending ``marks`` first, of the same kind: grpc.aio picks how to drive a
    streaming handler by whether it is a coroutine or an async generator function."""
    if inspect.isasyncgenfunction(behavior):

        async def stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            await _mark(context, marks)
            async for message in behavior(request, context):
                yield message

        return stream

    async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await _mark(context, marks)
        return await behavior(request, context)

    return call


async def _mark(context: grpc.aio.ServicerContext[Any, Any], marks: Metadata) -> None:
    await context.send_initial_metadata(marks)
    context.set_trailing_metadata(marks)


class SandboxMarkInterceptor(grpc.aio.ServerInterceptor):
    """Marks the calls of every service but ``marked_by_edge`` (whose edge marks them itself)."""

    def __init__(self, marked_by_edge: str, marks: Metadata = SANDBOX_METADATA) -> None:
        self._skip = f"/{marked_by_edge}/"
        self._marks = marks

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method  # type: ignore[attr-defined]
        if handler is None or method.startswith(self._skip):
            return handler
        kind = _KINDS[handler.request_streaming, handler.response_streaming]
        behavior = getattr(handler, kind)
        if behavior is None or not (
            inspect.iscoroutinefunction(behavior) or inspect.isasyncgenfunction(behavior)
        ):
            return handler  # a sync handler: grpc.aio runs it in a thread, leave it alone
        return handler._replace(**{kind: _marked(behavior, self._marks)})  # type: ignore[attr-defined, no-any-return]
