"""Which markets are live right now, for the REST candles answer."""

from __future__ import annotations

from dataclasses import dataclass

from application.live.interest import StreamReport
from application.live.state import LiveState
from domain.candle_trail import CandleTrail
from domain.interval import Interval
from domain.live import StreamKey
from domain.symbol import Symbol


@dataclass(frozen=True, slots=True)
class LiveCandles:
    """A market's live trail at one version (read the trail before the next await)."""

    trail: CandleTrail
    version: int


class LiveMarkets:
    """A market is live while a subscriber here watches its candles, the stream has delivered
    some, and the provider that delivered the newest is connected (per ``StreamReport``)."""

    def __init__(self, state: LiveState, report: StreamReport) -> None:
        self._state = state
        self._report = report

    def candles(self, market: Symbol, interval: Interval) -> LiveCandles | None:
        """The live trail of ``market`` at ``interval``, or None while it is not live."""
        key = StreamKey.candles(market, interval)
        trail = self._state.trail(key)
        version = self._state.version(key)
        if trail is None or version is None or trail.source is None or not len(trail):
            return None
        if not any(s.provider == trail.source and s.state == "connected" for s in self._report.statuses()):
            return None
        return LiveCandles(trail, version)
