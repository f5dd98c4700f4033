"""A pacing gate: at most ``limit`` uses in any ``window`` seconds, waited for, not refused."""

from __future__ import annotations

import asyncio


class RateSlots:
    """``limit`` slots; a slot taken by ``acquire`` comes back ``window`` seconds later.

    Used for the messages one WebSocket connection sends (control messages and pongs both
    count against the exchange's limit) and for connection attempts. It reads no clock: the
    event loop returns each slot after ``window``, so nothing here depends on wall time.
    """

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("pacing needs at least one slot and a positive window")
        self.limit = limit
        self.window = window
        self._free = asyncio.Semaphore(limit)
        self._returns: set[asyncio.TimerHandle] = set()

    async def acquire(self) -> None:
        """Wait for a free slot and take it."""
        await self._free.acquire()
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def give_back() -> None:
            self._returns.discard(handle)
            self._free.release()

        handle = loop.call_later(self.window, give_back)
        self._returns.add(handle)

    @property
    def available(self) -> int:
        """Slots free right now."""
        return self.limit - len(self._returns)

    def close(self) -> None:
        """Forget the pending returns (the gate is no longer used)."""
        for handle in self._returns:
            handle.cancel()
        self._returns.clear()
