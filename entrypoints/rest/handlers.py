"""Request handlers: parse, call one use case, render. No business rule lives here."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from application.served import Served
from domain.candle import DEFAULT_CANDLES
from domain.errors import InvalidParameter
from entrypoints.rest import rendering
from entrypoints.rest.app_keys import ANSWERS, SETTINGS, USE_CASES
from entrypoints.rest.errors import ApiError

T = TypeVar("T")
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


def _int_param(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not _WHOLE_NUMBER.fullmatch(raw):  # int() would take "+5", "1_000" and other digits
        raise InvalidParameter(f"{name} must be a whole number, got {raw!r}", field=name)
    return int(raw)


async def ohlcv(request: web.Request) -> web.Response:
    """GET /api/ohlcv?symbol=BTC&interval=1h&limit=100 (``timeframe`` is an alias of interval)."""
    query = request.query
    interval = query.get("interval", query.get("timeframe"))
    limit = _int_param(request, "limit", DEFAULT_CANDLES)
    served = await request.app[USE_CASES].get_ohlcv.execute(query.get("symbol"), interval, limit)
    return _answer(request, served, rendering.ohlcv_body)


async def prices(request: web.Request) -> web.Response:
    """GET /api/prices?symbols=BTC,ETH (none: every supported symbol)."""
    served = await request.app[USE_CASES].get_prices.execute(request.query.get("symbols"))
    return _answer(request, served, rendering.prices_body)


async def sentiment(request: web.Request) -> web.Response:
    """GET /api/sentiment."""
    served = await request.app[USE_CASES].get_sentiment.execute()
    return _answer(request, served, rendering.sentiment_body)


async def market_overview(request: web.Request) -> web.Response:
    """GET /api/market/overview."""
    served = await request.app[USE_CASES].get_market_overview.execute()
    return _answer(request, served, rendering.overview_body)


def _answer(
    request: web.Request, served: Served[T], present: Callable[[Served[T]], dict[str, Any]]
) -> web.Response:
    """The JSON answer to ``served``: kept from its first presentation, a fresh timestamp spliced in."""
    return web.Response(body=request.app[ANSWERS].answer(served, present), content_type="application/json")


async def health(request: web.Request) -> web.Response:
    """GET /api/health: 200 unless no data can be served at all (503)."""
    report = await request.app[USE_CASES].get_health.execute()
    return rendering.model_response(rendering.health(report), 503 if report.status == "unhealthy" else 200)


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics: Prometheus' text format, circuit states read at scrape time."""
    use_cases = request.app[USE_CASES]
    report = await use_cases.get_health.execute()
    use_cases.metrics.circuits((p.name, p.circuit) for p in report.providers)
    response = web.Response(body=use_cases.metrics.exposition())
    response.headers["Content-Type"] = use_cases.metrics.content_type
    return response


async def cache_stats(request: web.Request) -> web.Response:
    """GET /api/cache/stats."""
    stats = await request.app[USE_CASES].cache_admin.stats()
    return rendering.model_response(rendering.cache_stats(stats))


async def cache_clear(request: web.Request) -> web.Response:
    """POST /api/cache/clear with ``Authorization: Bearer $ADMIN_TOKEN``."""
    _require_admin(request)
    removed = await request.app[USE_CASES].cache_admin.clear()
    return rendering.model_response(rendering.cache_cleared(removed))


def _require_admin(request: web.Request) -> None:
    token = request.app[SETTINGS].admin_token.get_secret_value()
    if not token:
        raise ApiError(403, "FORBIDDEN", "admin endpoints are disabled: no ADMIN_TOKEN is configured")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise ApiError(401, "UNAUTHORIZED", "send Authorization: Bearer <ADMIN_TOKEN>")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ApiError(403, "FORBIDDEN", "wrong admin token")
