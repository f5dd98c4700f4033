"""The FillLocks port with failover: while Redis is out, each process fills its cold keys alone."""

from __future__ import annotations

from adapters.failover.guard import SharedBackendGuard
from domain.ports import FillLocks


class FailoverFillLocks:
    """Implements the FillLocks port over shared ``primary`` locks (Redis) with an in-process
    ``fallback`` that serves while the guard holds the backend down."""

    def __init__(self, primary: FillLocks, fallback: FillLocks, guard: SharedBackendGuard) -> None:
        self._primary = primary
        self._fallback = fallback
        self._guard = guard

    async def try_acquire(self, key: str, ttl: float) -> bool:
        """From the primary, or the fallback during an outage."""
        return await self._guard.run(
            lambda: self._primary.try_acquire(key, ttl), lambda: self._fallback.try_acquire(key, ttl)
        )

    async def release(self, key: str) -> None:
        """On the primary, or the fallback during an outage."""
        await self._guard.run(lambda: self._primary.release(key), lambda: self._fallback.release(key))
