"""Turning served domain values into the JSON shapes of ../shared/API.md.

Every body is built through the models of ``schemas``, the same ones the OpenAPI document
is generated from.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from application.get_health import HealthReport
from application.served import Served
from domain.candle import Candle, CandleSeries
from domain.candle_page import CandlePage
from domain.live import StreamStatus
from domain.market import MarketOverview
from domain.ports import CacheStats
from domain.provider_health import ProviderHealth
from domain.quote import CombinedQuote, PriceBoard
from domain.sentiment import FearGreed, Sentiment
from entrypoints import __version__
from entrypoints.edge_rules import SERVER_NAME
from entrypoints.rest import schemas


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


def model_response(model: schemas.ApiModel, status: int = 200) -> web.Response:
    """A response whose body is ``model`` under its JSON names."""
    return json_response(model.body(), status)


def data_body(model: schemas.DataEnvelope) -> dict[str, Any]:
    """A success envelope's JSON object; ``dataTimestamp`` appears only on stale answers."""
    body = model.body()
    if body["dataTimestamp"] is None:
        del body["dataTimestamp"]
    return body


def envelope_fields(served: Served[Any]) -> dict[str, Any]:
    """The envelope fields of a served value: timestamp, stale and, when stale, its age."""
    return {
        "timestamp": now_ms(),
        "stale": served.stale,
        "data_timestamp": int(served.fetched_at * 1000) if served.stale else None,
    }


def ohlcv(served: Served[CandleSeries], rows: bool = True) -> schemas.OhlcvResponse:
    """Candles oldest first, with the pair, interval and source (``data`` left empty without
    ``rows``: see :func:`candle_rows`)."""
    series = served.value
    return schemas.OhlcvResponse(
        data=[
            schemas.Candle(timestamp=c.timestamp, open=c.open, high=c.high, low=c.low, close=c.close,
                           volume=c.volume)
            for c in series.candles
        ] if rows else [],
        symbol=series.symbol.pair,
        interval=series.interval.name,
        count=len(series.candles),
        source=series.source,
        live=served.live,
        **envelope_fields(served),
    )  # fmt: skip


def ohlcv_range(served: Served[CandlePage], rows: bool = True) -> schemas.OhlcvRangeResponse:
    """One page of a range: the ``ohlcv`` answer of its candles, with where the next page
    starts, whether it is complete and its gaps."""
    page = served.value
    plain = ohlcv(Served(page.series, served.stale, served.fetched_at, live=served.live), rows)
    return schemas.OhlcvRangeResponse(
        **dict(plain), next=page.next_ms, complete=page.complete,
        gaps=[(gap.start_ms, gap.end_ms) for gap in page.gaps],
    )  # fmt: skip


def quote(q: CombinedQuote) -> schemas.Quote:
    """One combined quote."""
    return schemas.Quote(
        symbol=q.symbol,
        name=q.name,
        price=q.price_usd,
        price_usd=q.price_usd,
        change_24h=q.change_24h,
        volume_24h=q.volume_24h,
        market_cap=q.market_cap,
        last_update=iso(q.last_update),
        sources=list(q.sources),
        dropped=list(q.dropped),
        spread=q.spread,
        disputed=q.disputed,
    )


def prices(served: Served[PriceBoard]) -> schemas.PricesResponse:
    """Every quote on the board, the contributing providers and the symbols nobody priced."""
    board = served.value
    return schemas.PricesResponse(
        data=[quote(q) for q in board.quotes],
        source="+".join(board.sources),
        count=len(board.quotes),
        missing=list(board.missing),
        **envelope_fields(served),
    )


def _reading(reading: FearGreed) -> schemas.FearGreedReading:
    return schemas.FearGreedReading(
        value=reading.value, classification=reading.classification, timestamp=iso(reading.timestamp)
    )


def sentiment(served: Served[Sentiment]) -> schemas.SentimentResponse:
    """The sentiment object."""
    s = served.value
    data = schemas.SentimentData(
        fear_greed=_reading(s.fear_greed),
        overall=schemas.OverallSentiment(
            sentiment=s.overall.sentiment,  # type: ignore[arg-type]
            score=s.overall.score,
            confidence=s.overall.confidence,
        ),
        history=[_reading(r) for r in s.history],
        source=s.source,
    )
    return schemas.SentimentResponse(data=data, source=s.source, **envelope_fields(served))


def overview(served: Served[MarketOverview]) -> schemas.MarketOverviewResponse:
    """The market overview object."""
    o = served.value
    data = schemas.MarketOverviewData(
        total_market_cap=o.total_market_cap,
        total_volume_24h=o.total_volume_24h,
        btc_dominance=o.btc_dominance,
        eth_dominance=o.eth_dominance,
        active_coins=o.active_coins,
        markets=o.markets,
        market_cap_change_24h=o.market_cap_change_24h,
        last_update=iso(o.updated_at),
    )
    return schemas.MarketOverviewResponse(data=data, source=o.source, **envelope_fields(served))


def candle_rows(candles: Sequence[Candle]) -> list[dict[str, Any]]:
    """``schemas.Candle`` objects as JSON, written directly: a page of a range holds up to 10000
    candles, and a model built and dumped per candle was most of such an answer's time."""
    return [
        {"timestamp": c.timestamp, "open": c.open, "high": c.high, "low": c.low, "close": c.close,
         "volume": c.volume}
        for c in candles
    ]  # fmt: skip


def ohlcv_body(served: Served[CandleSeries]) -> dict[str, Any]:
    """The body of GET /api/ohlcv."""
    body = data_body(ohlcv(served, rows=False))
    body["data"] = candle_rows(served.value.candles)
    return body


def ohlcv_range_body(served: Served[CandlePage]) -> dict[str, Any]:
    """The body of GET /api/ohlcv with ``start``."""
    body = data_body(ohlcv_range(served, rows=False))
    body["data"] = candle_rows(served.value.series.candles)
    return body


def prices_body(served: Served[PriceBoard]) -> dict[str, Any]:
    """The body of GET /api/prices."""
    return data_body(prices(served))


def sentiment_body(served: Served[Sentiment]) -> dict[str, Any]:
    """The body of GET /api/sentiment."""
    return data_body(sentiment(served))


def overview_body(served: Served[MarketOverview]) -> dict[str, Any]:
    """The body of GET /api/market/overview."""
    return data_body(overview(served))


def _cache_fields(stats: CacheStats) -> dict[str, Any]:
    return {
        "backend": stats.backend,
        "state": stats.state,
        "size": stats.size,
        "hits": stats.hits,
        "misses": stats.misses,
        "hit_rate": stats.hit_rate,
        "max_entries": stats.max_entries,
    }


def cache_stats(stats: CacheStats) -> schemas.CacheStatsResponse:
    """Cache counters, as GET /api/cache/stats answers them."""
    return schemas.CacheStatsResponse(**_cache_fields(stats), timestamp=now_ms())


def cache_cleared(removed: int) -> schemas.CacheClearResponse:
    """The answer to POST /api/cache/clear."""
    return schemas.CacheClearResponse(
        message=f"cache cleared ({removed} entries removed)", removed=removed, timestamp=now_ms()
    )


def provider(p: ProviderHealth) -> schemas.ProviderStatus:
    """One provider's health."""
    return schemas.ProviderStatus(
        name=p.name,
        status=p.status,  # type: ignore[arg-type]
        circuit=p.circuit,  # type: ignore[arg-type]
        latency=p.latency_ms,
        last_check=iso(p.last_check),
        error_message=p.error_message,
        calls=p.calls,
        failures=p.failures,
    )


def stream(status: StreamStatus) -> schemas.StreamHealth:
    """One upstream stream provider's state."""
    last = status.last_message
    return schemas.StreamHealth(provider=status.provider, state=status.state, streams=status.streams,
                                last_message=None if last is None else round(last * 1000),
                                reconnects=status.reconnects)  # fmt: skip


def health(report: HealthReport, streams: Sequence[StreamStatus] = ()) -> schemas.HealthResponse:
    """The health document; ``streams``: the live streams' providers (none when they are off)."""
    return schemas.HealthResponse(
        status=report.status,  # type: ignore[arg-type]
        uptime=report.uptime,
        version=report.version,
        providers=[provider(p) for p in report.providers],
        cache=schemas.CacheStats(**_cache_fields(report.cache)),
        streams=[stream(s) for s in streams],
        pid=os.getpid(),  # which worker answered, with serve --workers N
        timestamp=now_ms(),
    )


def service_index() -> schemas.ServiceIndex:
    """GET /: the service's name and version, and where its documentation and health are."""
    return schemas.ServiceIndex(name=SERVER_NAME, version=__version__, docs="/docs", redoc="/redoc",
                                openapi="/openapi.json", health="/api/health")  # fmt: skip
