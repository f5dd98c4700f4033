"""Live market data: the upstream streams the service holds and the events they carry.

An exchange WebSocket carries candle events (the candle of one market and interval as it
forms, then once ``closed``) and ticker events (a market's last price and 24-hour figures).
Times are epoch milliseconds, like every other time inside the domain's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from domain.candle import Candle
from domain.interval import Interval
from domain.symbol import Symbol

#: The two kinds of upstream stream: the candles of a market at one interval, or its ticker.
StreamChannel = Literal["candles", "ticker"]

#: Connection states a stream provider reports in health.
StreamState = Literal["connected", "reconnecting", "down"]


@dataclass(frozen=True, slots=True)
class StreamKey:
    """One upstream stream: ``candles`` of ``symbol`` at ``interval``, or the ``ticker`` of
    ``symbol`` (``interval`` None). Hashable: demand, leases and subscriptions key by it."""

    channel: StreamChannel
    symbol: Symbol
    interval: Interval | None = None

    def __post_init__(self) -> None:
        if (self.channel == "candles") != (self.interval is not None):
            raise ValueError("a candles stream needs an interval; a ticker stream has none")

    @classmethod
    def candles(cls, symbol: Symbol, interval: Interval) -> StreamKey:
        """The candles stream of ``symbol`` at ``interval``."""
        return cls("candles", symbol, interval)

    @classmethod
    def ticker(cls, symbol: Symbol) -> StreamKey:
        """The ticker stream of ``symbol``."""
        return cls("ticker", symbol)

    def __str__(self) -> str:
        return f"{self.channel}:{self.symbol.pair}" + (f":{self.interval.name}" if self.interval else "")


@dataclass(frozen=True, slots=True)
class CandleEvent:
    """The candle of ``symbol`` at ``interval`` as ``source`` last reported it.

    ``closed`` is True on the candle's final values (once per candle); until then the candle is
    in progress and later events for the same ``candle.timestamp`` replace it.
    ``event_time`` is the exchange's event time (epoch ms) of this change.
    """

    symbol: Symbol
    interval: Interval
    candle: Candle
    closed: bool
    event_time: int
    source: str

    @property
    def key(self) -> StreamKey:
        """The stream this event belongs to."""
        return StreamKey.candles(self.symbol, self.interval)


@dataclass(frozen=True, slots=True)
class TickerEvent:
    """A market's last price and rolling 24-hour figures as ``source`` reported them.

    ``volume_base`` is in units of the base asset, ``volume_quote`` in the quote currency.
    Figures the exchange does not send are None, never a made-up zero.
    """

    symbol: Symbol
    last: float
    open_24h: float | None
    high_24h: float | None
    low_24h: float | None
    volume_base: float | None
    volume_quote: float | None
    event_time: int
    source: str

    @property
    def key(self) -> StreamKey:
        """The stream this event belongs to."""
        return StreamKey.ticker(self.symbol)

    @property
    def change_24h(self) -> float | None:
        """Price change over 24 hours in percent, when the exchange sent the open."""
        if self.open_24h is None or self.open_24h == 0:
            return None
        return (self.last / self.open_24h - 1) * 100


StreamEvent = CandleEvent | TickerEvent


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """What health reports of one upstream stream provider.

    ``last_message`` is epoch seconds of the last frame of any kind (pings included), None
    before the first; ``reconnects`` counts connections opened after the first.
    """

    provider: str
    state: StreamState
    streams: int
    last_message: float | None
    reconnects: int
