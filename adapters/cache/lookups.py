"""How every cache backend counts a lookup, so their stats mean the same thing."""

from __future__ import annotations

from domain.ports import CacheEntry


class LookupCounter:
    """A hit is a fresh entry; an absent, expired or stale one is a miss (a stale entry is
    still returned, for stale-if-error, but it did not spare an upstream call)."""

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0

    def servable(self, entry: CacheEntry | None, now: float) -> CacheEntry | None:
        """``entry`` while fresh or within its stale window, else ``None``; counted either way."""
        if entry is None or entry.stale_until <= now:
            self.misses += 1
            return None
        if entry.fresh_until > now:
            self.hits += 1
        else:
            self.misses += 1
        return entry
