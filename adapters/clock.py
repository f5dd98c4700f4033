"""The system clock adapter."""

from __future__ import annotations

import time


class SystemClock:
    """Implements the Clock port with the real wall and monotonic clocks."""

    def now(self) -> float:
        """Wall-clock epoch seconds."""
        return time.time()

    def monotonic(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()
