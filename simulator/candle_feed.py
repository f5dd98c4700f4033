"""Which candles one subscribed stream owes its client at a push, on the simulator clock."""

from __future__ import annotations

from .timeframes import Timeframe

#: Most closed candles sent at one push after a long jump of the clock (older ones are skipped,
#: as a client that was away for long would have to fill them over REST anyway).
MAX_CATCH_UP = 1_000


class CandleFeed:
    """The open time of the candle a stream last sent as in progress. At each push the candles
    that closed since then are due once each, with their final values, then the one in
    progress now. ``since`` is when the stream was subscribed: the candle in progress then
    closes on it too, as Binance sends the final kline of every candle that closes while
    subscribed (None: only candles a push already sent)."""

    def __init__(self, timeframe: Timeframe, since: float | None = None) -> None:
        self.timeframe = timeframe
        self.current: int | None = None if since is None else timeframe.floor(since)

    def due(self, now: float) -> tuple[list[int], int]:
        """(open times of the candles that closed since the last call, oldest first; the open
        time of the candle in progress at ``now``)."""
        current = self.timeframe.floor(now)
        closed: list[int] = []
        if self.current is not None and current > self.current:
            start = self.current
            if self.timeframe.shift(start, MAX_CATCH_UP) < current:
                start = self.timeframe.shift(current, -MAX_CATCH_UP)
            while start < current:
                closed.append(start)
                start = self.timeframe.shift(start, 1)
        self.current = current
        return closed, current
