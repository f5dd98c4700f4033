"""What the live routes of one REST app share: their settings, the message encoder, the
streams to end at the drain, and the way to the live feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from application.get_ohlcv import DEFAULT_INTERVAL
from application.live.feed import LiveFeed
from domain.errors import FeatureDisabled
from domain.interval import IntervalParser
from domain.symbol import SymbolParser
from entrypoints.edge_rules import STREAMS_OFF
from entrypoints.rest.app_keys import SETTINGS, SHUTDOWN, USE_CASES
from entrypoints.rest.live.messages import LiveMessages
from entrypoints.shutdown import ShuttingDown
from entrypoints.stream_ends import StreamEnds



@dataclass(frozen=True, slots=True)
class WsLimits:
    """Per WebSocket connection: subscriptions, client messages a second, message bytes, and
    the heartbeat (seconds between server pings; no pong within half of it drops the client)."""

    max_subscriptions: int
    messages_per_second: int
    max_message_size: int
    heartbeat: float


@dataclass(frozen=True, slots=True)
class SseTiming:
    """Seconds between keep-alive comments, and the reconnection delay told to EventSource."""

    keepalive: float
    retry: float


@dataclass(frozen=True, slots=True)
class LiveEdge:
    """The live routes' shared parts (one per app, under ``LIVE``)."""

    messages: LiveMessages
    ends: StreamEnds
    symbols: SymbolParser
    intervals: IntervalParser
    ws: WsLimits
    sse: SseTiming
    default_interval: str = DEFAULT_INTERVAL


LIVE = web.AppKey("live", LiveEdge)


def live_feed(request: web.Request) -> LiveFeed:
    """The feed a new stream watches: 404 when live streams are off (like /api/sentiment with
    ENABLE_SENTIMENT=false), 503 once the server drains (a client reconnects elsewhere)."""
    feed = request.app[USE_CASES].live
    if feed is None:
        raise FeatureDisabled(STREAMS_OFF)
    if request.app[LIVE].ends.draining:
        raise ShuttingDown()
    return feed


async def _stream_ends(app: web.Application) -> AsyncIterator[None]:
    yield
    app[LIVE].ends.close()


def setup_live(app: web.Application) -> None:
    """Give ``app`` its ``LIVE`` part, from its settings and its shutdown."""
    settings = app[SETTINGS]
    app[LIVE] = LiveEdge(
        messages=LiveMessages(settings.sandbox),
        ends=StreamEnds(app[SHUTDOWN].draining),
        symbols=SymbolParser(settings.supported_symbols),
        intervals=IntervalParser(settings.supported_intervals),
        ws=WsLimits(settings.ws_max_subscriptions, settings.ws_max_messages_per_second,
                    settings.ws_max_message_size, settings.ws_heartbeat),
        sse=SseTiming(settings.sse_keepalive, settings.sse_retry),
    )  # fmt: skip
    app.cleanup_ctx.append(_stream_ends)
