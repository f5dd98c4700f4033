"""Binance's per-IP request weight, counted per UTC minute."""

from __future__ import annotations

import math
from collections.abc import Callable


class RequestWeight:
    """Weight used in the current minute of the simulator's clock.

    The simulator has one client as far as it cares (everything comes from loopback), so
    there is a single counter, as for one IP at Binance.
    """

    def __init__(self, now: Callable[[], float], limit: int | None) -> None:
        self._now = now
        self.limit = limit
        self._minute = -1
        self._used = 0

    def add(self, weight: int) -> int:
        """Count a request of ``weight``; returns the weight used this minute."""
        self._roll()
        self._used += weight
        return self._used

    @property
    def used(self) -> int:
        """Weight used in the current minute."""
        self._roll()
        return self._used

    @property
    def exceeded(self) -> bool:
        """Whether this minute is over the limit."""
        return self.limit is not None and self.used > self.limit

    def seconds_to_reset(self) -> int:
        """Whole seconds until the next minute starts (at least 1)."""
        now = self._now()
        return max(1, math.ceil((math.floor(now / 60) + 1) * 60 - now))

    def reset(self) -> None:
        """Forget the weight used."""
        self._used = 0

    def _roll(self) -> None:
        minute = math.floor(self._now() / 60)
        if minute != self._minute:
            self._minute, self._used = minute, 0
