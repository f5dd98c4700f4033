"""Warnings about what clients cause, rate limited so that a flood cannot flood the log."""

from __future__ import annotations

from typing import Any, Protocol

from domain.ports import Clock

DEFAULT_WINDOW = 10.0  # seconds: at most one line per kind in this long


class WarningLogger(Protocol):
    """The one method of a structlog logger used here."""

    def warning(self, event: str, **fields: Any) -> Any:
        """Write a WARNING line."""
        ...


class FloodLog:
    """One WARNING line per kind (``malformed``, ``header_timeout``, ...) per window.

    The first event of a kind is written at once; later ones of that kind within ``window``
    seconds are only counted, and the next line written for the kind says how many were
    left out (``suppressed``), as the kernel's printk rate limit does. No traceback: these
    are the clients' errors, not ours. Time comes from the Clock port (monotonic), so tests
    drive the window.
    """

    def __init__(self, logger: WarningLogger, clock: Clock, window: float = DEFAULT_WINDOW) -> None:
        self._logger = logger
        self._clock = clock
        self._window = window
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, kind: str, event: str, **fields: Any) -> bool:
        """Write ``event`` unless a line of ``kind`` was written within the window; True if written."""
        now = self._clock.monotonic()
        last = self._last.get(kind)
        if last is not None and now - last < self._window:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return False
        self._last[kind] = now
        suppressed = self._suppressed.pop(kind, 0)
        self._logger.warning(event, kind=kind, suppressed=suppressed, **fields)
        return True
