"""Request id, CORS, client limits, the error envelope, metrics and the access log, for every request."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from domain.errors import RateLimited
from entrypoints import edge_rules
from entrypoints.edge_metrics import EdgeMetrics
from entrypoints.log import AccessLog, bind_request_id
from entrypoints.rest.app_keys import USE_CASES
from entrypoints.rest.clients import client_address
from entrypoints.rest.errors import envelope, response_for
from entrypoints.rest.routes import ADMIN_PATHS, LIMITED_GROUPS
from entrypoints.rest.stream_headers import STREAM_HEADERS, STREAM_PATHS
from entrypoints.shutdown import ShutdownCoordinator, ShuttingDown

# Methods a metric label may name; clients choose the method, and each label value is a series.
_LABELLED_METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"})
_EXPOSED = "X-Request-ID, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining"
error_log = structlog.get_logger("errors")


def _route_of(request: web.Request) -> str:
    """The route's pattern (``/api/ohlcv``), never the raw path: metric labels stay few."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def _preflight(request: web.Request, permitted: bool) -> web.Response:
    if request.path in ADMIN_PATHS:
        return envelope(403, "FORBIDDEN", "admin routes are not open to cross-origin requests")
    if not permitted:
        return envelope(403, "FORBIDDEN", "origin not allowed by CORS_ORIGINS")
    response = web.Response(status=204)
    # What the CORS-enabled routes take, whatever the preflight asked for (never echoed).
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD"
    response.headers["Access-Control-Allow-Headers"] = "X-Request-ID"
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def _failure(request: web.Request, error: Exception) -> web.Response:
    """The envelope for ``error``; a bug becomes a 500 without internals in the body."""
    response = response_for(error)
    if response is not None:
        return response
    if isinstance(error, web.HTTPException):
        raise error  # 2xx/3xx "exceptions" are responses
    error_log.exception("unhandled error", path=request.path)
    return envelope(500, "INTERNAL_ERROR", edge_rules.INTERNAL_MESSAGE)


def edge_middleware(
    cors_origins: Sequence[str],
    trust_proxy: bool,
    access_log: AccessLog,
    metrics: EdgeMetrics | None = None,
    shutdown: ShutdownCoordinator | None = None,
) -> web.Middleware:
    """Everything every request gets, in one layer (each layer costs a coroutine per request).

    In order: a sane ``X-Request-ID`` echoed or made and bound to every log line; CORS from
    CORS_ORIGINS, preflight included; the per-client limit of the route's endpoint group with
    its X-RateLimit-* headers; every error in the envelope, and the shutdown's cut (a handler
    still running when the grace is nearly spent) as a 503 that closes the connection; then
    the request is counted in the metrics and written to the access log, whatever happened.
    """
    allow_all = "*" in cors_origins
    allowed = frozenset(cors_origins)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        headers = request.headers
        request_id = edge_rules.request_id(headers.get("X-Request-ID"))
        bind_request_id(request_id)  # on every line of this request, the access line included
        origin = headers.get("Origin")
        permitted = (
            origin is not None and (allow_all or origin in allowed) and request.path not in ADMIN_PATHS
        )
        status = 500
        if request.path in STREAM_PATHS:  # a stream sends its headers before it returns
            request[STREAM_HEADERS] = _stream_headers(request_id, origin if permitted else None, allow_all)
        try:
            try:
                if request.method == "OPTIONS" and "Access-Control-Request-Method" in headers:
                    response: web.StreamResponse = _preflight(request, permitted)
                else:
                    response = await _limited(request, handler, trust_proxy)
            except web.HTTPException as error:
                status = error.status
                response = _failure(request, error)
            except Exception as error:  # noqa: BLE001 - the edge: every error gets an envelope
                response = _failure(request, error)
            except asyncio.CancelledError:
                # Not the cut, or a streamed answer already under way: the request ends as it is.
                if shutdown is None or request.writer.output_size or not shutdown.absorb_cut():
                    raise
                response = _failure(request, ShuttingDown())
                response.force_close()  # "Connection: close": the server is going away
            response_headers = response.headers
            response_headers["X-Request-ID"] = request_id
            response_headers["Server"] = edge_rules.SERVER_NAME  # not aiohttp's, with versions
            if permitted:
                response_headers["Access-Control-Allow-Origin"] = "*" if allow_all else origin  # type: ignore[assignment]
                response_headers["Access-Control-Expose-Headers"] = _EXPOSED
            if not allow_all:  # the answer depends on Origin, allowed or not: shared caches must know
                response_headers["Vary"] = "Origin"
            status = response.status
            return response
        finally:
            elapsed = time.perf_counter() - started
            if metrics is not None:
                method = request.method if request.method in _LABELLED_METHODS else "other"
                metrics.request(_route_of(request), method, status, elapsed)
            access_log.write(
                "request",
                method=request.method,
                path=request.path,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                client=request.remote,
            )

    return middleware


async def _limited(request: web.Request, handler: Handler, trust_proxy: bool) -> web.StreamResponse:
    """The handler's answer, unless the client is over its group's limit (429)."""
    group = LIMITED_GROUPS.get(request.path)
    if group is None or request.method == "OPTIONS":
        return await handler(request)
    limits = request.app[USE_CASES].client_limits
    decision = await limits.check(group, client_address(request, trust_proxy))
    if decision is None:
        return await handler(request)
    headers = {"X-RateLimit-Limit": str(decision.limit), "X-RateLimit-Remaining": str(decision.remaining)}
    stream_headers = request.get(STREAM_HEADERS)
    if stream_headers is not None:
        stream_headers.update(headers)
    if not decision.allowed:
        error = RateLimited(decision.limit, decision.retry_after)
        return envelope(429, "RATE_LIMITED", str(error), {"limit": decision.limit, "group": group},
                        max(1, math.ceil(decision.retry_after)), headers)  # fmt: skip
    try:
        response = await handler(request)
    except Exception as error:  # noqa: BLE001 - an error answer still tells the client its budget
        response = _failure(request, error)
    response.headers.update(headers)
    return response


def _stream_headers(request_id: str, allowed_origin: str | None, allow_all: bool) -> dict[str, str]:
    """What the middleware adds to every answer, for a stream to send with its own headers."""
    headers = {"X-Request-ID": request_id, "Server": edge_rules.SERVER_NAME}
    if allowed_origin is not None:
        headers["Access-Control-Allow-Origin"] = "*" if allow_all else allowed_origin
        headers["Access-Control-Expose-Headers"] = _EXPOSED
    if not allow_all:
        headers["Vary"] = "Origin"
    return headers


def setup_middlewares(
    app: web.Application,
    cors_origins: Sequence[str],
    trust_proxy: bool,
    access_log: AccessLog,
    metrics: EdgeMetrics | None = None,
    shutdown: ShutdownCoordinator | None = None,
) -> None:
    """The one edge middleware (see ``edge_middleware``)."""
    app.middlewares.append(edge_middleware(cors_origins, trust_proxy, access_log, metrics, shutdown))
