"""Proto ⇄ domain: the one place that knows both the messages and the domain values.

Every time leaves as int64 epoch milliseconds; a value the domain does not know (``None``)
leaves the ``optional`` field unset rather than sending a made-up zero.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from application.get_health import HealthReport
from application.live.updates import CandleUpdate
from application.served import Served
from domain.candle import DEFAULT_CANDLES, CandleSeries
from domain.candle_page import CandlePage
from domain.errors import InvalidSymbol
from domain.live import StreamStatus
from domain.market import MarketOverview
from domain.ports import CacheStats
from domain.provider_health import ProviderHealth
from domain.quote import CombinedQuote, PriceBoard
from domain.sentiment import FearGreed, Sentiment
from protos.cryptodata.v1 import market_data_pb2 as pb


def now_ms() -> int:
    """The response timestamp: epoch milliseconds."""
    return int(time.time() * 1000)


def epoch_ms(epoch_seconds: float) -> int:
    """Epoch seconds (the domain's unit) as epoch milliseconds (the wire's)."""
    return round(epoch_seconds * 1000)


def _optional_ms(epoch_seconds: float | None) -> int | None:
    return None if epoch_seconds is None else epoch_ms(epoch_seconds)


def _freshness(served: Served[Any]) -> dict[str, Any]:
    # Keyword arguments of a message constructor: a None there would be an error, so the
    # optional data_timestamp is only passed when the value is stale.
    fields: dict[str, Any] = {"stale": served.stale, "timestamp": now_ms()}
    if served.stale:
        fields["data_timestamp"] = epoch_ms(served.fetched_at)
    return fields


def _present(**values: Any) -> dict[str, Any]:
    """Only the values that are known, so unknown optional fields stay unset."""
    return {name: value for name, value in values.items() if value is not None}


# -- requests ------------------------------------------------------------------------------


def ohlcv_query(request: pb.GetOhlcvRequest) -> tuple[str, str | None, int]:
    """Symbol, interval (None: the use case's default) and limit of a GetOhlcv request."""
    limit = request.limit if request.HasField("limit") else DEFAULT_CANDLES
    return request.symbol, request.interval or None, limit


def ohlcv_range_query(request: pb.GetOhlcvRequest) -> tuple[str, str | None, str, str | None, int | None]:
    """Symbol, interval, start, end (epoch ms, as the text the use case parses; end None: now)
    and limit (None: the range default) of a GetOhlcv request with ``start`` set."""
    end = str(request.end) if request.HasField("end") else None
    limit = request.limit if request.HasField("limit") else None
    return request.symbol, request.interval or None, str(request.start), end, limit


def symbols_query(symbols: Sequence[str]) -> str | None:
    """The comma list the prices use case parses; None (every symbol) for an empty list.

    A blank entry is refused here because joining it would hide it inside the list.
    """
    if not symbols:
        return None
    if any(not item.strip() for item in symbols):
        raise InvalidSymbol("symbols must not contain an empty entry", field="symbols")
    if any("," in item for item in symbols):  # one entry is one symbol, not a hidden list
        raise InvalidSymbol("each entry of symbols is one symbol; no commas", field="symbols")
    return ",".join(symbols)


# -- responses -----------------------------------------------------------------------------


def ohlcv_response(served: Served[CandleSeries]) -> pb.GetOhlcvResponse:
    """Candles oldest first, with the market, interval and the provider that answered."""
    series = served.value
    return pb.GetOhlcvResponse(
        candles=[
            pb.Candle(
                timestamp=c.timestamp, open=c.open, high=c.high, low=c.low, close=c.close, volume=c.volume
            )
            for c in series.candles
        ],
        source=series.source,
        symbol=series.symbol.pair,
        interval=series.interval.name,
        count=len(series.candles),
        **_freshness(served),
    )


def ohlcv_range_response(served: Served[CandlePage]) -> pb.GetOhlcvResponse:
    """One page of a range: its candles as ``ohlcv_response`` gives them, with where the next
    page starts (unset on the last one), whether it is complete and its gaps."""
    page = served.value
    message = ohlcv_response(Served(page.series, served.stale, served.fetched_at, live=served.live))
    if page.next_ms is not None:
        message.next = page.next_ms
    message.complete = page.complete
    message.gaps.extend(pb.Gap(from_ms=gap.start_ms, to_ms=gap.end_ms) for gap in page.gaps)
    return message


def quote(q: CombinedQuote) -> pb.Quote:
    """One combined quote."""
    return pb.Quote(
        symbol=q.symbol,
        name=q.name,
        price=q.price_usd,
        price_usd=q.price_usd,
        last_update=epoch_ms(q.last_update),
        sources=q.sources,
        dropped=q.dropped,
        spread=q.spread,
        disputed=q.disputed,
        **_present(change_24h=q.change_24h, volume_24h=q.volume_24h, market_cap=q.market_cap),
    )


def prices_response(served: Served[PriceBoard]) -> pb.GetPricesResponse:
    """The price board (also each message of StreamPrices)."""
    board = served.value
    return pb.GetPricesResponse(
        quotes=[quote(q) for q in board.quotes],
        source="+".join(board.sources),
        missing=board.missing,
        count=len(board.quotes),
        **_freshness(served),
    )


def _reading(reading: FearGreed) -> pb.FearGreed:
    return pb.FearGreed(
        value=reading.value, classification=reading.classification, timestamp=epoch_ms(reading.timestamp)
    )


def sentiment_response(served: Served[Sentiment]) -> pb.GetSentimentResponse:
    """Today's Fear & Greed reading, the overall sentiment and the week's history."""
    s = served.value
    return pb.GetSentimentResponse(
        fear_greed=_reading(s.fear_greed),
        overall=pb.OverallSentiment(
            sentiment=s.overall.sentiment, score=s.overall.score, confidence=s.overall.confidence
        ),
        history=[_reading(r) for r in s.history],
        source=s.source,
        **_freshness(served),
    )


def overview_response(served: Served[MarketOverview]) -> pb.GetMarketOverviewResponse:
    """Totals of the whole market."""
    o = served.value
    return pb.GetMarketOverviewResponse(
        total_market_cap=o.total_market_cap,
        total_volume_24h=o.total_volume_24h,
        btc_dominance=o.btc_dominance,
        eth_dominance=o.eth_dominance,
        active_coins=o.active_coins,
        last_update=epoch_ms(o.updated_at),
        source=o.source,
        **_present(markets=o.markets, market_cap_change_24h=o.market_cap_change_24h),
        **_freshness(served),
    )


def _provider(p: ProviderHealth) -> pb.ProviderHealth:
    return pb.ProviderHealth(
        name=p.name,
        status=p.status,
        circuit=p.circuit,
        calls=p.calls,
        failures=p.failures,
        **_present(
            latency=p.latency_ms, last_check=_optional_ms(p.last_check), error_message=p.error_message
        ),
    )


def _cache(stats: CacheStats) -> pb.CacheStats:
    return pb.CacheStats(
        backend=stats.backend,
        size=stats.size,
        hits=stats.hits,
        misses=stats.misses,
        hit_rate=stats.hit_rate,
        **_present(max_entries=stats.max_entries),
    )


def _stream(status: StreamStatus) -> pb.StreamHealth:
    return pb.StreamHealth(
        provider=status.provider, state=status.state, streams=status.streams, reconnects=status.reconnects,
        **_present(last_message=_optional_ms(status.last_message)),
    )


def health_response(
    report: HealthReport, sandbox: bool = False, streams: Sequence[StreamStatus] = ()
) -> pb.GetHealthResponse:
    """The health document; an unhealthy service still answers OK with status "unhealthy".
    ``streams``: the live streams' upstream providers (none when live streams are off)."""
    return pb.GetHealthResponse(
        status=report.status,
        uptime=report.uptime,
        version=report.version,
        providers=[_provider(p) for p in report.providers],
        cache=_cache(report.cache),
        timestamp=now_ms(),
        sandbox=sandbox,
        streams=[_stream(status) for status in streams],
    )


# -- live ----------------------------------------------------------------------------------


def candle_update(update: CandleUpdate) -> pb.CandleUpdate:
    """A StreamCandles message: a snapshot or an update of one market's candles."""
    return pb.CandleUpdate(
        type=update.type,
        symbol=update.symbol.pair,
        interval=update.interval.name,
        source=update.source,
        candles=[
            pb.LiveCandle(timestamp=c.timestamp, open=c.open, high=c.high, low=c.low, close=c.close,
                          volume=c.volume, closed=live.closed)
            for live in update.candles
            for c in (live.candle,)
        ],
        timestamp=update.timestamp,
        **_present(event_time=update.event_time),
    )  # fmt: skip


def live_board(quotes: Sequence[CombinedQuote], requested: Sequence[str]) -> pb.GetPricesResponse:
    """A StreamPrices message from live quotes: every watched asset's newest quote; ``missing``
    the requested assets that have none; ``source`` every provider that contributed."""
    present = {q.symbol for q in quotes}
    sources = dict.fromkeys(source for q in quotes for source in q.sources)
    return pb.GetPricesResponse(
        quotes=[quote(q) for q in quotes],
        source="+".join(sources),
        missing=[base for base in requested if base not in present],
        stale=False,
        timestamp=now_ms(),
        count=len(quotes),
    )
