"""Request handlers: parse, call one use case, render. No business rule lives here."""

from __future__ import annotations

import hmac
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web
from multidict import MultiDictProxy

from application.client_limits import ADMIN_GROUP
from application.served import Served
from domain.candle import DEFAULT_CANDLES
from domain.client_input import clipped, quoted
from domain.errors import InvalidParameter
from entrypoints.rest import rendering
from entrypoints.rest.indicator_rendering import indicators_body
from entrypoints.rest.app_keys import ANSWERS, SETTINGS, USE_CASES
from entrypoints.rest.clients import client_address
from entrypoints.rest.errors import ApiError

T = TypeVar("T")
D = TypeVar("D", int, None)
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


def single_query(request: web.Request) -> MultiDictProxy[str]:
    """The query, each parameter once: a repeated one (``limit=5&limit=abc``) is refused
    rather than one of its values picked."""
    query = request.query
    if len(query) > 1 and len(query.keys()) != len(query):  # keys() are distinct, len() counts all
        seen: set[str] = set()
        for name, _ in query.items():  # the first repeated one, named in the answer
            if name in seen:
                message = f"parameter {quoted(name)} is given more than once"
                raise InvalidParameter(message, field=clipped(name))
            seen.add(name)
    return query


def _int_param(query: MultiDictProxy[str], name: str, default: D) -> int | D:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not _WHOLE_NUMBER.fullmatch(raw):  # int() would take "+5", "1_000" and other digits
        raise InvalidParameter(f"{name} must be a whole number, got {quoted(raw)}", field=name)
    return int(raw)


def interval_param(query: MultiDictProxy[str]) -> str | None:
    """``interval``, or its alias ``timeframe`` when it is absent."""
    return query.get("interval", query.get("timeframe"))


async def ohlcv(request: web.Request) -> web.Response:
    """GET /api/ohlcv?symbol=BTC&interval=1h&limit=100 (``timeframe`` is an alias of interval);
    with ``start`` (and ``end``), one page of that range (see ``ohlcv_range``)."""
    query = single_query(request)
    if "start" in query:
        return await _ohlcv_range(request, query)
    if "end" in query:
        raise InvalidParameter("end needs start: give start to ask for a range", field="end")
    limit = _int_param(query, "limit", DEFAULT_CANDLES)
    served = await request.app[USE_CASES].get_ohlcv.execute(query.get("symbol"), interval_param(query), limit)
    return _answer(request, served, rendering.ohlcv_body)


async def _ohlcv_range(request: web.Request, query: MultiDictProxy[str]) -> web.Response:
    """GET /api/ohlcv?symbol=BTC&interval=1h&start=...&end=...&limit=1000: the candles opening
    in ``[start, end)``, at most ``limit`` (1..10000, default 1000), with next/complete/gaps.
    Never kept in the answer memo (its ``Served`` names no request)."""
    limit = _int_param(query, "limit", None)
    served = await request.app[USE_CASES].get_ohlcv_range.execute(
        query.get("symbol"), interval_param(query), query.get("start"), query.get("end"), limit
    )
    return _answer(request, served, rendering.ohlcv_range_body)


async def indicators(request: web.Request) -> web.Response:
    """GET /api/indicators?symbol=BTC&interval=1h&limit=100&indicators=rsi:14,macd:12:26:9:
    ``limit`` as /api/ohlcv's without ``start`` (1..1000, default 100), ``timeframe`` an alias
    of interval. Kept in the answer memo until its candles change (its ``Served`` names the
    window and the indicators)."""
    query = single_query(request)
    limit = _int_param(query, "limit", DEFAULT_CANDLES)
    served = await request.app[USE_CASES].get_indicators.execute(
        query.get("symbol"), interval_param(query), limit, query.get("indicators")
    )
    return _answer(request, served, indicators_body)


async def prices(request: web.Request) -> web.Response:
    """GET /api/prices?symbols=BTC,ETH (none: every supported symbol)."""
    served = await request.app[USE_CASES].get_prices.execute(single_query(request).get("symbols"))
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
    use_cases = request.app[USE_CASES]
    report = await use_cases.get_health.execute()
    streams = use_cases.streams.statuses() if use_cases.streams is not None else ()
    body = rendering.health(report, streams)
    return rendering.model_response(body, 503 if report.status == "unhealthy" else 200)


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
    await _require_admin(request)
    removed = await request.app[USE_CASES].cache_admin.clear()
    return rendering.model_response(rendering.cache_cleared(removed))


async def _require_admin(request: web.Request) -> None:
    """Pass with the right token; 401/403 without it; 429 once the client failed too often."""
    settings = request.app[SETTINGS]
    token = settings.admin_token.get_secret_value()
    if not token:
        raise ApiError(403, "FORBIDDEN", "admin endpoints are disabled: no ADMIN_TOKEN is configured")
    limits = request.app[USE_CASES].client_limits
    client = client_address(request, settings.trust_proxy)
    decision = await limits.admin_attempt(client)  # counted as failed until the token is right
    if decision is not None and not decision.allowed:
        message = f"too many failed admin attempts: at most {decision.limit} a minute per client"
        details = {"limit": decision.limit, "group": ADMIN_GROUP}
        raise ApiError(429, "RATE_LIMITED", message, details, max(1, math.ceil(decision.retry_after)))
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise ApiError(401, "UNAUTHORIZED", "send Authorization: Bearer <ADMIN_TOKEN>")
    # Header values arrive decoded with surrogateescape: encoding them back the same way gives
    # the bytes the client sent, whatever they were (a plain encode() fails on raw bytes).
    if not hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"), token.encode()):
        raise ApiError(403, "FORBIDDEN", "wrong admin token")
    await limits.admin_succeeded(client)
