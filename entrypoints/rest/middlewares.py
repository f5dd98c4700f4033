"""Request id, access log, CORS and the error envelope, for every request."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from domain.errors import RateLimited
from entrypoints import edge_rules
from entrypoints.edge_rules import last_forwarded
from entrypoints.rest.errors import envelope, response_for
from entrypoints.rest.keys import USE_CASES
from entrypoints.rest.routes import LIMITED_GROUPS

_EXPOSED = "X-Request-ID, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining"
access_log = structlog.get_logger("access")
error_log = structlog.get_logger("errors")


def request_context_middleware() -> web.Middleware:
    """Echo a sane ``X-Request-ID`` or make one, bind it to logs, and log the access.

    Outermost, so it is also the last safety net: whatever escapes the inner middlewares
    still leaves in the error envelope, and every request is logged.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = edge_rules.request_id(request.headers.get("X-Request-ID"))
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        try:
            try:
                response = await handler(request)
            except Exception as error:
                known = response_for(error)
                if known is None:
                    if isinstance(error, web.HTTPException):
                        raise
                    error_log.exception("unhandled error", path=request.path)
                    known = envelope(500, "INTERNAL_ERROR", edge_rules.INTERNAL_MESSAGE)
                response = known
            response.headers["X-Request-ID"] = request_id
            status = response.status
            return response
        finally:
            access_log.info(
                "request",
                method=request.method,
                path=request.path,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                client=request.remote,
            )

    return middleware


def error_middleware() -> web.Middleware:
    """Every error leaves in the envelope; bugs become 500 without internals in the body."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except Exception as error:
            response = response_for(error)
            if response is not None:
                return response
            if isinstance(error, web.HTTPException):
                raise  # 2xx/3xx "exceptions" are responses
            error_log.exception("unhandled error", path=request.path)
            return envelope(500, "INTERNAL_ERROR", edge_rules.INTERNAL_MESSAGE)

    return middleware


def cors_middleware(origins: Sequence[str]) -> web.Middleware:
    """CORS from CORS_ORIGINS, preflight included."""
    allow_all = "*" in origins
    allowed = frozenset(origins)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        permitted = origin is not None and (allow_all or origin in allowed)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            if not permitted:
                return envelope(403, "FORBIDDEN", "origin not allowed by CORS_ORIGINS")
            response: web.StreamResponse = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = request.headers.get(
                "Access-Control-Request-Headers", "Authorization, Content-Type, X-Request-ID"
            )
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            response = await handler(request)
        if permitted:
            response.headers["Access-Control-Allow-Origin"] = "*" if allow_all else origin  # type: ignore[assignment]
            response.headers["Access-Control-Expose-Headers"] = _EXPOSED
        if not allow_all:  # the answer depends on Origin, allowed or not: shared caches must know
            response.headers["Vary"] = "Origin"
        return response

    return middleware


def client_address(request: web.Request, trust_proxy: bool) -> str:
    """Who the client is: the peer address, or with TRUST_PROXY the address our proxy saw.

    The proxy appends the peer it saw to ``X-Forwarded-For``, so the last entry is the one
    nobody but the proxy wrote; earlier entries can be forged by the client.
    """
    forwarded = last_forwarded(request.headers.get("X-Forwarded-For")) if trust_proxy else None
    return forwarded or request.remote or "unknown"


def rate_limit_middleware(trust_proxy: bool) -> web.Middleware:
    """Per-client limits per endpoint group, with X-RateLimit-* headers on limited routes."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        group = LIMITED_GROUPS.get(request.path)
        if group is None or request.method == "OPTIONS":
            return await handler(request)
        limits = request.app[USE_CASES].client_limits
        decision = await limits.check(group, client_address(request, trust_proxy))
        if decision is None:
            return await handler(request)
        headers = {"X-RateLimit-Limit": str(decision.limit), "X-RateLimit-Remaining": str(decision.remaining)}
        if not decision.allowed:
            error = RateLimited(decision.limit, decision.retry_after)
            return envelope(429, "RATE_LIMITED", str(error), {"limit": decision.limit, "group": group},
                            max(1, math.ceil(decision.retry_after)), headers)  # fmt: skip
        response = await handler(request)
        response.headers.update(headers)
        return response

    return middleware


def setup_middlewares(app: web.Application, cors_origins: Sequence[str], trust_proxy: bool) -> None:
    """Outermost first: request context, CORS, client limits, then the error envelope."""
    app.middlewares.extend(
        [
            request_context_middleware(),
            cors_middleware(cors_origins),
            rate_limit_middleware(trust_proxy),
            error_middleware(),
        ]
    )
