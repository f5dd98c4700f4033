"""The edge part of the object graph: what the transports (REST and gRPC) are handed."""

from __future__ import annotations

from dataclasses import dataclass

from dependency_injector import containers, providers

from application.cache_admin import CacheAdmin
from application.client_limits import ClientLimits
from application.get_health import GetHealth
from application.get_indicators import GetIndicators
from application.get_market_overview import GetMarketOverview
from application.get_ohlcv import GetOhlcv
from application.get_prices import GetPrices
from application.get_sentiment import GetSentiment
from application.history.export_candles import ExportCandles
from application.history.get_ohlcv_range import GetOhlcvRange
from application.live.feed import LiveFeed
from application.live.interest import StreamReport
from application.live.live_indicators import LiveIndicators
from entrypoints.edge_metrics import EdgeMetrics
from entrypoints.log import AccessLog, open_access_log


@dataclass(frozen=True, slots=True)
class UseCases:
    """Everything the transports call, resolved once at start-up."""

    get_ohlcv: GetOhlcv
    get_prices: GetPrices
    get_sentiment: GetSentiment
    get_market_overview: GetMarketOverview
    get_health: GetHealth
    cache_admin: CacheAdmin
    client_limits: ClientLimits
    metrics: EdgeMetrics
    access_log: AccessLog
    #: Candle ranges (``/api/ohlcv`` with ``start``) and their export.
    get_ohlcv_range: GetOhlcvRange
    export_candles: ExportCandles
    #: Technical indicators over the candles (``/api/indicators``, gRPC GetIndicators).
    get_indicators: GetIndicators
    #: Live candles and prices (None while live streams are not built, or STREAM_ENABLED=false).
    live: LiveFeed | None = None
    #: The upstream stream providers' state, for health (None without live streams).
    streams: StreamReport | None = None
    #: Indicator rows following the live candles (None without live streams).
    live_indicators: LiveIndicators | None = None


class Edge(containers.DeclarativeContainer):
    """What both transports are handed: the use cases (with client limits), the metrics and
    the access log."""

    shared = providers.DependenciesContainer()
    application = providers.DependenciesContainer()

    metrics = shared.metrics
    access_log = providers.Resource(open_access_log)  # closing it writes the lines still queued
    use_cases = providers.Singleton(
        UseCases,
        get_ohlcv=application.get_ohlcv,
        get_prices=application.get_prices,
        get_sentiment=application.get_sentiment,
        get_market_overview=application.get_market_overview,
        get_health=application.get_health,
        cache_admin=application.cache_admin,
        client_limits=application.client_limits,
        metrics=metrics,
        access_log=access_log,
        get_ohlcv_range=application.get_ohlcv_range,
        export_candles=application.export_candles,
        get_indicators=application.get_indicators,
        live=application.live_feed,
        streams=application.stream_report,
        live_indicators=application.live_indicators,
    )
