"""This replica's interest in upstream streams: watchers counted per stream, kept for a while
after the last one left."""

from __future__ import annotations

import asyncio

from domain.live import StreamKey
from domain.ports import Clock


class LocalInterest:
    """Implements ``StreamInterest``: counts this replica's watchers per stream.

    A stream stays wanted while it has watchers and for ``idle_timeout`` seconds (monotonic
    clock) after its last watcher left, so a client that reconnects at once does not cost a
    reopen and a refill. ``changed`` is set whenever the set of wanted streams may have
    changed, so whoever acts on it need not poll quickly.
    """

    def __init__(self, clock: Clock, idle_timeout: float) -> None:
        self._clock = clock
        self._idle_timeout = idle_timeout
        self._watchers: dict[StreamKey, int] = {}
        self._left_at: dict[StreamKey, float] = {}
        self.changed = asyncio.Event()

    def watch(self, key: StreamKey) -> None:
        """One more watcher of ``key``."""
        self._watchers[key] = self._watchers.get(key, 0) + 1
        self._left_at.pop(key, None)
        self.changed.set()

    def unwatch(self, key: StreamKey) -> None:
        """One watcher of ``key`` fewer; the last one starts its idle time. An unwatch
        without a watch is ignored (never a negative count)."""
        count = self._watchers.get(key, 0)
        if count <= 0:
            return
        if count == 1:
            del self._watchers[key]
            self._left_at[key] = self._clock.monotonic()
        else:
            self._watchers[key] = count - 1

    def watchers(self, key: StreamKey) -> int:
        """How many watchers ``key`` has now."""
        return self._watchers.get(key, 0)

    def wanted(self) -> frozenset[StreamKey]:
        """The streams watched now or left less than ``idle_timeout`` ago. Streams whose idle
        time is over are forgotten here."""
        now = self._clock.monotonic()
        expired = [key for key, left in self._left_at.items() if now - left >= self._idle_timeout]
        for key in expired:
            del self._left_at[key]
        if expired:
            self.changed.set()
        return frozenset(self._watchers) | frozenset(self._left_at)
