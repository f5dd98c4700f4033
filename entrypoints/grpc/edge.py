"""What every RPC gets at the edge: request id, client limits, error mapping and the access log.

The gRPC counterpart of the REST middlewares. Handlers are wrapped with :func:`unary` or
:func:`server_stream`; they parse, call one use case and map the answer, nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol, TypeAlias, TypeVar
from urllib.parse import unquote

import grpc
import structlog

from application.client_limits import ClientLimits
from domain.errors import RateLimited
from entrypoints import edge_rules
from entrypoints.edge_metrics import EdgeMetrics
from entrypoints.edge_rules import last_forwarded
from entrypoints.grpc.errors import Metadata, failure_for, internal_failure
from entrypoints.log import AccessLog, bind_request_id
from entrypoints.shutdown import ShutdownCoordinator, ShuttingDown

error_log = structlog.get_logger("errors")

Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def client_of(context: Context, trust_proxy: bool) -> str:
    """Who the client is, for its limits: the peer's address without the port.

    The port is dropped because every new connection gets a new one, which would give a
    client a fresh limit per connection. With GRPC_TRUST_PROXY the last ``x-forwarded-for``
    entry wins, as on REST: that is the one our proxy wrote. It is a setting of its own
    because internal gRPC callers usually connect directly and could forge the header.
    """
    forwarded = last_forwarded(_metadata(context).get("x-forwarded-for")) if trust_proxy else None
    if forwarded:
        return forwarded
    peer = unquote(context.peer() or "unknown")  # "ipv4:1.2.3.4:5", "ipv6:[::1]:5", "unix:/path"
    kind, _, address = peer.partition(":")
    if kind in ("ipv4", "ipv6") and ":" in address:
        return address.rsplit(":", 1)[0].strip("[]")
    return peer


def _metadata(context: Context) -> dict[str, str]:
    return {key: value for key, value in (context.invocation_metadata() or ()) if isinstance(value, str)}


@dataclass(frozen=True, slots=True)
class Edge:
    """The servicer-wide part of the edge: its full service name, the client limits, the
    access log and the metrics (the last three from the container), and the process's
    shutdown, which cuts unary calls still running late in the grace (UNAVAILABLE)."""

    service: str
    client_limits: ClientLimits
    access_log: AccessLog
    trust_proxy: bool = False
    metrics: EdgeMetrics | None = None
    # Metadata every call starts and ends with: sandbox mode's ("x-data-mode", "sandbox").
    marks: Metadata = ()
    shutdown: ShutdownCoordinator | None = None

    async def admit(self, group: str | None, context: Context) -> None:
        """Count the call against the client's limit for ``group``; raise when over it."""
        decision = await self.client_limits.check(group, client_of(context, self.trust_proxy))
        if decision is not None and not decision.allowed:
            raise RateLimited(decision.limit, decision.retry_after)


class Guarded(Protocol):
    """A servicer whose RPCs go through the edge."""

    edge: Edge


class _Call:
    """Bookkeeping of one RPC: its request id, its final status and its access-log line."""

    def __init__(self, method: str, context: Context, edge: Edge) -> None:
        self.method = method
        self.metrics = edge.metrics
        self.access_log = edge.access_log
        self.context = context
        self.status = grpc.StatusCode.OK
        self.messages = 0
        self.started = time.perf_counter()
        self.trailers: Metadata = ()
        self.request_id = ""

    async def begin(self, marks: Metadata = ()) -> None:
        request_id = self.request_id = edge_rules.request_id(_metadata(self.context).get("x-request-id"))
        bind_request_id(request_id)  # on every line of this call, the access line included
        self.trailers = (("x-request-id", request_id), *marks)
        # Initial metadata too, so a stream's client knows the id before the first message.
        await self.context.send_initial_metadata(self.trailers)
        self.context.set_trailing_metadata(self.trailers)

    async def fail(self, error: Exception) -> NoReturn:
        failure = failure_for(error)
        if failure is None:
            error_log.error("unhandled error", method=self.method, exc_info=error)
            failure = internal_failure()
        self.status = failure.code
        await self.context.abort(failure.code, failure.message, self.trailers + failure.trailers)
        raise AssertionError("unreachable: abort raises")  # pragma: no cover

    def aborted(self) -> None:
        self.status = self.context.code() or grpc.StatusCode.UNKNOWN

    def gone(self) -> None:
        """The client cancelled or its deadline passed: the task is being cancelled."""
        remaining = self.context.time_remaining()
        expired = remaining is not None and remaining <= 0
        self.status = grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED

    def finish(self, streaming: bool = False) -> None:
        extra = {"messages": self.messages} if streaming else {}
        if streaming and self.request_id:
            # grpc.aio ends a stream in its own task, but a generator left unclosed would be
            # closed by the loop's async-generator finaliser, in another context (and another
            # request's id): the stream's line keeps its own id whoever closes it.
            bind_request_id(self.request_id)
        elapsed = time.perf_counter() - self.started
        if self.metrics is not None:
            self.metrics.grpc_call(self.method, self.status.name, None if streaming else elapsed)
        self.access_log.write(
            "rpc",
            method=self.method,
            status=self.status.name,
            code=self.status.value[0],
            duration_ms=round(elapsed * 1000, 2),
            client=self.context.peer(),
            **extra,
        )


S = TypeVar("S", bound=Guarded)
Req = TypeVar("Req")
Resp = TypeVar("Resp")


def unary(
    group: str | None,
) -> Callable[[Callable[[S, Req, Context], Awaitable[Resp]]], Callable[[S, Req, Context], Awaitable[Resp]]]:
    """Wrap a unary handler; ``group`` is its client-limit group (None: not limited)."""

    def decorate(
        handler: Callable[[S, Req, Context], Awaitable[Resp]],
    ) -> Callable[[S, Req, Context], Awaitable[Resp]]:
        @functools.wraps(handler)
        async def wrapper(self: S, request: Req, context: Context) -> Resp:
            call = _Call(f"/{self.edge.service}/{handler.__name__}", context, self.edge)
            shutdown = self.edge.shutdown
            task = shutdown.enter() if shutdown is not None else None
            try:
                await call.begin(self.edge.marks)
                await self.edge.admit(group, context)
                return await handler(self, request, context)
            except grpc.aio.AbortError:
                call.aborted()
                raise
            except asyncio.CancelledError:
                if shutdown is not None and shutdown.absorb_cut():
                    await call.fail(ShuttingDown())  # UNAVAILABLE, not a dropped call
                call.gone()
                raise  # never swallowed otherwise: grpc.aio ends the RPC with it
            except Exception as error:  # noqa: BLE001 - the edge: every error gets a status
                await call.fail(error)
            finally:
                if shutdown is not None:
                    shutdown.leave(task)
                call.finish()

        return wrapper

    return decorate


def server_stream(
    group: str | None,
) -> Callable[
    [Callable[[S, Req, Context], AsyncIterator[Resp]]], Callable[[S, Req, Context], AsyncIterator[Resp]]
]:
    """Wrap a server-streaming handler (an async generator); the limit is counted once per stream."""

    def decorate(
        handler: Callable[[S, Req, Context], AsyncIterator[Resp]],
    ) -> Callable[[S, Req, Context], AsyncIterator[Resp]]:
        @functools.wraps(handler)
        async def wrapper(self: S, request: Req, context: Context) -> AsyncIterator[Resp]:
            call = _Call(f"/{self.edge.service}/{handler.__name__}", context, self.edge)
            try:
                await call.begin(self.edge.marks)
                await self.edge.admit(group, context)
                # aclosing: the handler's own finally blocks run now, not whenever it is collected
                async with contextlib.aclosing(handler(self, request, context)) as messages:  # type: ignore[type-var]
                    async for message in messages:
                        yield message
                        call.messages += 1
            except grpc.aio.AbortError:
                call.aborted()
                raise
            except (asyncio.CancelledError, GeneratorExit):
                call.gone()
                raise
            except Exception as error:  # noqa: BLE001 - the edge: every error gets a status
                await call.fail(error)
            finally:
                call.finish(streaming=True)

        return wrapper

    return decorate
