"""Use cases: cache statistics and clearing."""

from __future__ import annotations

from domain.ports import Cache, CacheStats


class CacheAdmin:
    """Reads the cache's counters and clears this service's entries."""

    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    async def stats(self) -> CacheStats:
        """The backend's counters."""
        return await self._cache.stats()

    async def clear(self) -> int:
        """Remove every cached entry; return how many were removed."""
        return await self._cache.clear()
