"""The in-process cache backend: a bounded LRU with per-entry fresh and stale windows."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from domain.ports import CacheEntry, CacheStats, Clock


class MemoryCache:
    """Implements the Cache port in memory.

    Holds at most ``max_entries`` entries, evicting the least recently used. An entry is
    dropped once past its stale window. Hits count fresh lookups; misses count lookups that
    found nothing fresh (a stale copy may still be returned for stale-if-error).
    """

    def __init__(self, clock: Clock, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._hits = 0
        self._misses = 0

    async def get(self, key: str) -> CacheEntry | None:
        """Return the entry while fresh or within its stale window."""
        entry = self._entries.get(key)
        now = self._clock.now()
        if entry is None or entry.stale_until <= now:
            if entry is not None:
                del self._entries[key]
            self._misses += 1
            return None
        self._entries.move_to_end(key)
        if entry.fresh_until > now:
            self._hits += 1
        else:
            self._misses += 1
        return entry

    async def set(self, key: str, value: Any, ttl: float, stale_ttl: float) -> None:
        """Store ``value`` fresh for ``ttl`` seconds and servable stale ``stale_ttl`` more."""
        now = self._clock.now()
        self._entries[key] = CacheEntry(value, now, now + ttl, now + ttl + stale_ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def clear(self) -> int:
        """Remove every entry."""
        removed = len(self._entries)
        self._entries.clear()
        return removed

    async def stats(self) -> CacheStats:
        """Counters since start."""
        return CacheStats(
            backend="memory",
            size=len(self._entries),
            hits=self._hits,
            misses=self._misses,
            max_entries=self._max_entries,
        )
