"""When a cache entry was written: one stamp per write, never repeated."""

from __future__ import annotations

from domain.ports import Clock

#: The step between two writes in one clock tick: a microsecond, what the Redis header keeps.
_STEP = 1e-6


class WriteStamps:
    """Stamps for cache writes: the clock's time, nudged forward when the clock has not moved
    since the last write (a coarse or frozen clock), so two writes never share a stamp.

    An entry's stamp is its identity: the answer memo keeps encoded bodies by it and the
    Redis cache rechecks kept values by it, so a repeated stamp would serve another write's
    bytes.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last = float("-inf")

    def next(self) -> float:
        """The stamp of a write happening now."""
        stamp = max(self._clock.now(), self._last + _STEP)
        self._last = stamp
        return stamp
