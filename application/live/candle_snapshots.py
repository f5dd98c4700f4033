"""The snapshot a candles subscriber starts from: cached candles joined with the live trail.

A snapshot and the updates after it must not repeat or skip a candle. The feed takes the
snapshot from the live state and starts the subscriber's updates in one step, with no await
between: the first update after it is then the next change of that very state. The cached part
only reaches back further; it is joined where the trail begins and refetched when it was
fetched before that (its newest candles might not be final then).
"""

from __future__ import annotations

import asyncio
import contextlib

from application.live.interest import StreamReport
from application.live.sources import CandleHistory
from application.live.state import LiveState
from application.live.updates import CandleUpdate, LiveCandle
from application.served import Served
from domain.candle import CandleSeries
from domain.candle_trail import TRAIL_DEPTH, CandleTrail
from domain.errors import AllProvidersFailed
from domain.interval import Interval
from domain.live import StreamKey
from domain.live_window import fetched_window, joined_window
from domain.ports import Clock
from domain.symbol import Symbol

#: Candles in a snapshot: the closed ones a trail keeps and the one in progress.
SNAPSHOT_CANDLES = TRAIL_DEPTH


class CandleSnapshots:
    """Builds candle snapshots; ``first_event_wait`` (seconds) is how long a subscriber of a
    stream that has delivered nothing yet waits for its first event (the newest candle as the
    stream sees it) before it starts from the cached candles alone."""

    def __init__(
        self,
        history: CandleHistory,
        state: LiveState,
        report: StreamReport,
        clock: Clock,
        first_event_wait: float,
    ) -> None:
        self._history = history
        self._state = state
        self._report = report
        self._clock = clock
        self._first_event_wait = first_event_wait
        self._arrivals: dict[StreamKey, asyncio.Event] = {}
        # The last snapshot's candles per key, by the live state's version and the fetch they
        # joined: subscribers arriving between two changes share one tuple (an idle
        # subscriber then costs its watch, not a hundred candles of its own).
        self._last: dict[StreamKey, tuple[int | None, float | None, tuple[LiveCandle, ...], str]] = {}

    def arrived(self, key: StreamKey) -> None:
        """The live state of ``key`` changed (called by the feed for every accepted event)."""
        if self._arrivals:
            waiting = self._arrivals.pop(key, None)
            if waiting is not None:
                waiting.set()

    async def prepare(
        self, key: StreamKey, market: Symbol, interval: Interval
    ) -> Served[CandleSeries] | None:
        """Everything a snapshot needs that takes waiting: the stream's first event if none
        came yet, and cached candles that join the trail. None when no candles can be had
        but the trail's (raises ``AllProvidersFailed`` when the trail has none either)."""
        trail = self._state.trail(key)
        if trail is not None and not self._current(trail, interval) and self._upstream_may_answer():
            # A first fill arrives as up to 100 events, oldest first (over Redis in several
            # reads): wait for the newest, not just the first, or the snapshot would end hours
            # ago and the rest of the fill would follow it as "updates".
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._first_event_wait):
                    while not self._current(self._state.trail(key), interval):
                        await self._arrivals.setdefault(key, asyncio.Event()).wait()
        trail = self._state.trail(key)
        oldest = None if trail is None else trail.oldest
        if oldest is None:  # no stream yet: at least the candle forming now, not one of minutes ago
            now_ms = int(self._clock.now() * 1000)
            oldest = now_ms - now_ms % interval.milliseconds
        try:
            return await self._history.window(market, interval, oldest / 1000)
        except AllProvidersFailed:
            trail = self._state.trail(key)
            if trail is None or not len(trail):
                raise
            return None

    def take(self, key: StreamKey, market: Symbol, interval: Interval, history: Served[CandleSeries] | None,
             seq: int) -> CandleUpdate:  # fmt: skip
        """The snapshot of ``key`` now: call it and start the updates without an await between."""
        trail = self._state.trail(key)
        version = self._state.version(key)
        fetched_at = None if history is None else history.fetched_at
        last = self._last.get(key)
        if last is not None and last[0] == version and last[1] == fetched_at:
            candles, source = last[2], last[3]
        else:
            candles, source = self._candles(interval, history, trail)
            self._last[key] = (version, fetched_at, candles, source)
        return CandleUpdate(
            type="snapshot",
            symbol=market,
            interval=interval,
            source=source,
            candles=candles,
            event_time=None if trail is None else trail.event_time,
            timestamp=int(self._clock.now() * 1000),
            seq=seq,
        )

    @staticmethod
    def _candles(
        interval: Interval, history: Served[CandleSeries] | None, trail: CandleTrail | None
    ) -> tuple[tuple[LiveCandle, ...], str]:
        fetched = () if history is None else history.value.candles
        fetched_at_ms = 0 if history is None else int(history.fetched_at * 1000)
        if trail is None:
            window = fetched_window(fetched[-SNAPSHOT_CANDLES:], fetched_at_ms, interval.milliseconds)
        else:
            window = joined_window(fetched, fetched_at_ms, interval.milliseconds, trail, SNAPSHOT_CANDLES)
        source = window.source(history.value.source if history else "", trail.source if trail else None)
        return tuple(LiveCandle(candle, closed) for candle, closed in window.candles), source

    def _current(self, trail: CandleTrail | None, interval: Interval) -> bool:
        """Whether ``trail`` reaches now: a candle in progress, or a closed one whose successor
        is the candle forming now (a quiet market); True for a key nobody watches any more."""
        if trail is None or trail.in_progress is not None:
            return True
        closed = trail.closed
        if not closed:
            return False
        now_ms = int(self._clock.now() * 1000)
        return closed[-1].timestamp + interval.milliseconds >= now_ms - now_ms % interval.milliseconds

    def _upstream_may_answer(self) -> bool:
        return any(status.state != "down" for status in self._report.statuses())
