"""The in-process cache backend: a bounded LRU with per-entry fresh and stale windows."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from adapters.cache.lookups import LookupCounter
from adapters.cache.write_stamps import WriteStamps
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
        self._stamps = WriteStamps(clock)
        self._max_entries = max_entries
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._lookups = LookupCounter()

    async def get(self, key: str) -> CacheEntry | None:
        """Return the entry while fresh or within its stale window."""
        entry = self._lookups.servable(self._entries.get(key), self._clock.now())
        if entry is None:
            self._entries.pop(key, None)  # past its stale window: gone
            return None
        self._entries.move_to_end(key)
        return entry

    async def set(self, key: str, value: Any, ttl: float, stale_ttl: float) -> CacheEntry:
        """Store ``value`` fresh for ``ttl`` seconds and servable stale ``stale_ttl`` more."""
        now = self._stamps.next()
        entry = self._entries[key] = CacheEntry(value, now, now + ttl, now + ttl + stale_ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return entry

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
            hits=self._lookups.hits,
            misses=self._lookups.misses,
            max_entries=self._max_entries,
        )
