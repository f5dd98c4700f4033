"""The in-process stream demand: this replica's own announcement."""

from __future__ import annotations

from domain.live import StreamKey
from domain.ports import Clock


class MemoryStreamDemand:
    """Implements ``StreamDemand`` for a single process: the last announcement, until its
    ttl has passed on the clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._keys: frozenset[StreamKey] = frozenset()
        self._until = float("-inf")

    async def announce(self, keys: frozenset[StreamKey], ttl: float) -> None:
        """Replace the announcement with ``keys`` for ``ttl`` seconds."""
        self._keys = frozenset(keys)
        self._until = self._clock.monotonic() + ttl

    async def wanted(self) -> frozenset[StreamKey]:
        """The announced keys while the announcement lasts."""
        return self._keys if self._clock.monotonic() < self._until else frozenset()
