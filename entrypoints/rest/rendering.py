"""Turning served domain values into the JSON shapes of ../shared/API.md."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from application.get_health import HealthReport
from application.read_through import Served
from domain.candle import CandleSeries
from domain.market import MarketOverview
from domain.ports import CacheStats
from domain.provider_health import ProviderHealth
from domain.quote import CombinedQuote, PriceBoard
from domain.sentiment import FearGreed, Sentiment


def iso(epoch_seconds: float | None) -> str | None:
    """ISO 8601 UTC with a ``Z``, millisecond precision."""
    if epoch_seconds is None:
        return None
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_ms() -> int:
    """The response timestamp: epoch milliseconds."""
    return int(time.time() * 1000)


def json_response(body: dict[str, Any], status: int = 200) -> web.Response:
    """A JSON response encoded with orjson."""
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def data_response(served: Served[Any], data: Any, **extra: Any) -> web.Response:
    """The success envelope: ``data``, then any extra top-level fields, timestamp and stale."""
    body = {"success": True, "data": data, **extra}
    body["timestamp"] = now_ms()
    body["stale"] = served.stale
    if served.stale:
        body["dataTimestamp"] = int(served.fetched_at * 1000)
    return json_response(body)


def candles(series: CandleSeries) -> list[dict[str, Any]]:
    """Candles as JSON objects, oldest first."""
    return [
        {"timestamp": c.timestamp, "open": c.open, "high": c.high, "low": c.low,
         "close": c.close, "volume": c.volume}
        for c in series.candles
    ]  # fmt: skip


def quote(q: CombinedQuote) -> dict[str, Any]:
    """One combined quote."""
    return {
        "symbol": q.symbol,
        "name": q.name,
        "price": q.price_usd,
        "priceUsd": q.price_usd,
        "change24h": q.change_24h,
        "volume24h": q.volume_24h,
        "marketCap": q.market_cap,
        "lastUpdate": iso(q.last_update),
        "sources": list(q.sources),
        "dropped": list(q.dropped),
    }


def prices(board: PriceBoard) -> list[dict[str, Any]]:
    """Every quote on the board."""
    return [quote(q) for q in board.quotes]


def _reading(reading: FearGreed) -> dict[str, Any]:
    return {
        "value": reading.value,
        "classification": reading.classification,
        "timestamp": iso(reading.timestamp),
    }


def sentiment(s: Sentiment) -> dict[str, Any]:
    """The sentiment object."""
    return {
        "fearGreed": _reading(s.fear_greed),
        "overall": {
            "sentiment": s.overall.sentiment,
            "score": s.overall.score,
            "confidence": s.overall.confidence,
        },
        "history": [_reading(r) for r in s.history],
        "source": s.source,
    }


def overview(o: MarketOverview) -> dict[str, Any]:
    """The market overview object."""
    return {
        "totalMarketCap": o.total_market_cap,
        "totalVolume24h": o.total_volume_24h,
        "btcDominance": o.btc_dominance,
        "ethDominance": o.eth_dominance,
        "activeCoins": o.active_coins,
        "markets": o.markets,
        "marketCapChange24h": o.market_cap_change_24h,
        "lastUpdate": iso(o.updated_at),
    }


def cache_stats(stats: CacheStats) -> dict[str, Any]:
    """Cache counters."""
    return {
        "backend": stats.backend,
        "state": stats.state,
        "size": stats.size,
        "hits": stats.hits,
        "misses": stats.misses,
        "hitRate": stats.hit_rate,
        "maxEntries": stats.max_entries,
    }


def provider(p: ProviderHealth) -> dict[str, Any]:
    """One provider's health."""
    return {
        "name": p.name,
        "status": p.status,
        "circuit": p.circuit,
        "latency": p.latency_ms,
        "lastCheck": iso(p.last_check),
        "errorMessage": p.error_message,
        "calls": p.calls,
        "failures": p.failures,
    }


def health(report: HealthReport) -> dict[str, Any]:
    """The health document."""
    return {
        "status": report.status,
        "uptime": report.uptime,
        "version": report.version,
        "providers": [provider(p) for p in report.providers],
        "cache": cache_stats(report.cache),
        "pid": os.getpid(),  # which worker answered, with serve --workers N
        "timestamp": now_ms(),
    }
