"""The Cache port with failover: keep serving when the shared cache fails, from the in-process one."""

from __future__ import annotations

import asyncio
from typing import Any

from adapters.failover.guard import OUTAGE_ERRORS, SharedBackendGuard
from domain.ports import Cache, CacheEntry, CacheStats

_ADMIN_TIMEOUT = 5.0


class FailoverCache:
    """Implements the Cache port over a shared ``primary`` with an in-process ``fallback``.

    During an outage the fallback serves and stats report ``state: degraded``; the guard
    retries the primary by itself.
    """

    def __init__(self, primary: Cache, fallback: Cache, guard: SharedBackendGuard) -> None:
        self._primary = primary
        self._fallback = fallback
        self._guard = guard

    async def get(self, key: str) -> CacheEntry | None:
        """From the primary, or the fallback during an outage."""
        return await self._guard.run(lambda: self._primary.get(key), lambda: self._fallback.get(key))

    async def set(self, key: str, value: Any, ttl: float, stale_ttl: float) -> CacheEntry:
        """Into the primary, or the fallback during an outage."""
        return await self._guard.run(
            lambda: self._primary.set(key, value, ttl, stale_ttl),
            lambda: self._fallback.set(key, value, ttl, stale_ttl),
        )

    async def clear(self) -> int:
        """Clear both: entries written to the fallback during an outage go too.

        An admin operation that may scan: it gets its own, longer timeout and a failure does
        not count as an outage.
        """
        removed = await self._fallback.clear()
        try:
            async with asyncio.timeout(_ADMIN_TIMEOUT):
                return removed + await self._primary.clear()
        except OUTAGE_ERRORS:
            return removed

    async def stats(self) -> CacheStats:
        """The primary's counters with the backend's state; the fallback's during an outage."""
        stats = None
        if self._guard.healthy:
            try:
                async with asyncio.timeout(_ADMIN_TIMEOUT):
                    stats = await self._primary.stats()
            except OUTAGE_ERRORS:
                stats = None
        if stats is None:
            stats = await self._fallback.stats()
        return CacheStats(
            backend="redis",
            size=stats.size,
            hits=stats.hits,
            misses=stats.misses,
            max_entries=stats.max_entries,
            state="ok" if self._guard.healthy else "degraded",
        )
