"""The application part of the object graph: read-through caching and the use cases."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.indicators.talib_engine import TalibEngine
from application.cache_admin import CacheAdmin
from application.client_limits import ClientLimits
from application.get_health import GetHealth
from application.get_indicators import GetIndicators
from application.get_market_overview import GetMarketOverview
from application.get_ohlcv import GetOhlcv
from application.get_prices import GetPrices
from application.get_sentiment import GetSentiment
from application.history.candle_archive import CandleArchive
from application.history.candle_history import CandleHistory
from application.history.export_candles import ExportCandles
from application.history.get_ohlcv_range import GetOhlcvRange
from application.live.closed_candles import ClosedCandleQueue
from application.live.fanout import LiveFanout
from application.live.live_indicators import LiveIndicators
from application.live.live_markets import LiveMarkets
from application.live.state import LiveState
from application.read_through import ReadThrough
from domain.fallback import chain_walk_time
from domain.interval import IntervalParser
from domain.ports import OhlcvHistory
from domain.symbol import SymbolParser
from entrypoints import __version__
from entrypoints.containers.live_feed import live_feed_when
from entrypoints.registry.entry import Capability


class Application(containers.DeclarativeContainer):
    """Read-through caching and the use cases, over the shared state and the upstreams."""

    config = providers.Configuration(strict=True)
    shared = providers.DependenciesContainer()
    upstreams = providers.DependenciesContainer()
    live = providers.DependenciesContainer()  # the Live part: bus, interest, report

    read_through = providers.Singleton(
        ReadThrough,
        cache=shared.cache,
        clock=shared.clock,
        telemetry=shared.metrics,
        stale_ttl=config.cache_stale_ttl,
        fill_locks=shared.fill_locks,
        # Another replica's fill is waited for as long as its walk down the chain may take.
        fill_wait=providers.Callable(chain_walk_time, config.request_timeout, config.ohlcv_providers),
    )
    symbols = providers.Singleton(SymbolParser, config.supported_symbols)
    intervals = providers.Singleton(IntervalParser, config.supported_intervals)
    lineup = upstreams.lineup
    # What the live streams delivered on this replica: the fan-out writes it, GET /api/ohlcv
    # reads it while a market is live.
    live_state = providers.Singleton(LiveState)
    live_markets = providers.Singleton(LiveMarkets, live_state, live.report)
    # What keeps feeding the candle store: the windows /api/ohlcv fetches and the closed
    # candles the live streams deliver (written in batches, off the fan-out's path).
    candle_archive = providers.Singleton(CandleArchive, store=shared.candle_store, clock=shared.clock)
    closed_candles = providers.Singleton(ClosedCandleQueue, archive=candle_archive)

    get_ohlcv = providers.Singleton(
        GetOhlcv,
        symbols=symbols,
        intervals=intervals,
        providers=lineup.provided.chain.call(Capability.OHLCV),
        calls=upstreams.calls,
        read_through=read_through,
        ttl=config.cache_ttl_ohlcv,
        live=live_markets,
        archive=candle_archive,
    )
    # History: the OHLCV chain's providers that answer ranges, over the candle store.
    candle_history = providers.Singleton(
        CandleHistory,
        providers=providers.Callable(
            lambda chain: [p for p in chain if isinstance(p, OhlcvHistory)], lineup.provided.chain.call(Capability.OHLCV)
        ),
        calls=upstreams.calls,
        store=shared.candle_store,
        clock=shared.clock,
    )
    get_ohlcv_range = providers.Singleton(
        GetOhlcvRange,
        symbols=symbols,
        intervals=intervals,
        history=candle_history,
        latest=get_ohlcv,
        clock=shared.clock,
    )
    export_candles = providers.Singleton(ExportCandles, ranges=get_ohlcv_range)
    indicator_engine = providers.Singleton(TalibEngine)
    get_indicators = providers.Singleton(
        GetIndicators,
        symbols=symbols,
        intervals=intervals,
        engine=indicator_engine,
        candles=get_ohlcv,
        ranges=get_ohlcv_range,
        clock=shared.clock,
    )
    get_prices = providers.Singleton(
        GetPrices,
        symbols=symbols,
        providers=lineup.provided.chain.call(Capability.PRICES),
        calls=upstreams.calls,
        read_through=read_through,
        ttl=config.cache_ttl_prices,
        max_deviation=config.price_max_deviation,
    )
    get_sentiment = providers.Singleton(
        GetSentiment,
        providers=lineup.provided.chain.call(Capability.SENTIMENT),
        calls=upstreams.calls,
        read_through=read_through,
        ttl=config.cache_ttl_sentiment,
        enabled=config.enable_sentiment,
    )
    get_market_overview = providers.Singleton(
        GetMarketOverview,
        providers=lineup.provided.chain.call(Capability.OVERVIEW),
        calls=upstreams.calls,
        read_through=read_through,
        ttl=config.cache_ttl_market,
    )
    get_health = providers.Singleton(
        GetHealth,
        calls=upstreams.calls,
        cache=shared.cache,
        clock=shared.clock,
        capabilities=lineup.provided.capabilities,
        version=__version__,
    )
    cache_admin = providers.Singleton(CacheAdmin, cache=shared.cache)
    # Live streams: the fan-out (LiveFeed) running while the service serves, None with
    # STREAM_ENABLED=false (the edges then answer that streams are off).
    fanout = providers.Singleton(
        LiveFanout,
        bus=live.bus,
        interest=live.interest,
        report=live.report,
        history=get_ohlcv,
        boards=get_prices,
        symbols=symbols,
        intervals=intervals,
        clock=shared.clock,
        telemetry=shared.metrics,
        queue_limit=config.stream_queue_limit,
        state=live_state,
        # Watched quotes follow the cached board at least as often as StreamPrices polled it.
        board_refresh=config.grpc_stream_interval,
        closed_candles=closed_candles,
    )
    live_feed = providers.Resource(live_feed_when, config.stream_enabled, fanout.provider)
    # The WebSocket channel `indicators`: rows of get_indicators following the live candles.
    live_indicators = providers.Callable(
        lambda feed, indicators, clock: LiveIndicators(feed, indicators, clock) if feed is not None else None,
        live_feed, get_indicators, shared.clock,
    )
    stream_report = providers.Callable(lambda enabled, report: report if enabled else None,
                                       config.stream_enabled, live.report)  # fmt: skip
    client_limits = providers.Singleton(
        ClientLimits,
        limiter=shared.client_limiter,
        per_minute=providers.Dict(
            prices=config.rate_limit_prices,
            ohlcv=config.rate_limit_ohlcv,
            sentiment=config.rate_limit_sentiment,
            market=config.rate_limit_market,
        ),
        enabled=config.rate_limit_enabled,
        telemetry=shared.metrics,
    )
