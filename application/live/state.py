"""The live state: what the streams delivered for the markets this replica's subscribers watch.

Per candles key a :class:`~domain.candle_trail.CandleTrail` (the recent closed candles and the
one in progress), per ticker key the newest ticker. Only watched keys are kept: a key's state
starts empty when its first watcher arrives (so it never holds what a stream delivered before
a gap nobody here saw) and is forgotten with its last watcher, so memory is bounded by what is
watched (at most ``TRAIL_DEPTH`` + 1 candles per candles key, one ticker per ticker key).
"""

from __future__ import annotations

from collections import Counter
from itertools import count

from domain.candle_trail import TRAIL_DEPTH, CandleTrail
from domain.live import CandleEvent, StreamEvent, StreamKey, TickerEvent


class LiveState:
    """Trails and tickers of the watched keys, each with a version that changes on every change.

    Versions come from one counter for the whole process and are never reused, so "key K at
    version V" names one state for as long as the process lives (the answer memo relies on it).
    """

    def __init__(self, depth: int = TRAIL_DEPTH) -> None:
        self._depth = depth
        self._watchers: Counter[StreamKey] = Counter()
        self._trails: dict[StreamKey, CandleTrail] = {}
        self._tickers: dict[StreamKey, TickerEvent] = {}
        self._versions: dict[StreamKey, int] = {}
        self._counter = count(1)

    def track(self, key: StreamKey) -> None:
        """One more watcher of ``key``: keep its state from now on."""
        self._watchers[key] += 1
        if self._watchers[key] == 1:
            if key.channel == "candles":
                self._trails[key] = CandleTrail(self._depth)
            self._versions[key] = next(self._counter)

    def untrack(self, key: StreamKey) -> None:
        """One watcher of ``key`` fewer: its state is forgotten with the last one."""
        left = self._watchers[key] - 1
        if left > 0:
            self._watchers[key] = left
            return
        self._watchers.pop(key, None)
        self._trails.pop(key, None)
        self._tickers.pop(key, None)
        self._versions.pop(key, None)

    def watched(self, key: StreamKey) -> bool:
        """Whether some subscriber here watches ``key``."""
        return key in self._watchers

    def apply(self, event: StreamEvent) -> bool:
        """Take ``event`` in; True when it changed the state of a watched key."""
        key = event.key
        if isinstance(event, CandleEvent):
            trail = self._trails.get(key)
            if trail is None or not trail.accept(event.candle, event.closed):
                return False
            trail.source = event.source
            trail.event_time = event.event_time
        else:
            if key not in self._watchers:
                return False
            known = self._tickers.get(key)
            if known is not None and (event.event_time < known.event_time or event == known):
                return False
            self._tickers[key] = event
        self._versions[key] = next(self._counter)
        return True

    def trail(self, key: StreamKey) -> CandleTrail | None:
        """The trail of a watched candles key (read it before the next await: it moves on)."""
        return self._trails.get(key)

    def ticker(self, key: StreamKey) -> TickerEvent | None:
        """The newest ticker of a watched ticker key."""
        return self._tickers.get(key)

    def version(self, key: StreamKey) -> int | None:
        """The version of a watched key's state; None when nobody here watches it."""
        return self._versions.get(key)

    def __len__(self) -> int:
        """Keys watched."""
        return len(self._watchers)
