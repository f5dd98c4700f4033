"""The shared cache backend on Redis (redis-py asyncio, pooled)."""

from __future__ import annotations

import asyncio
import struct
from collections import OrderedDict
from typing import Any

from redis.asyncio import Redis

from adapters.cache.codec import CodecError, decode, encode
from adapters.cache.lookups import LookupCounter
from adapters.cache.write_stamps import WriteStamps
from domain.ports import CacheEntry, CacheStats, Clock

# Bump when the stored format changes: old entries then live under another prefix and are
# never misread; they expire by their own TTL.
FORMAT_VERSION = "v1"
DEFAULT_NAMESPACE = "cde"
_HEADER = struct.Struct("<ddd")  # stored_at, fresh_until, stale_until
_SIZE_EVERY = 10.0  # seconds between two counts of the entries
_SIZE_BUDGET = 1.0  # seconds one count may take; past it the count is a lower bound
_DECODED_MAX = 512  # entries whose decoded value this process keeps, by their header
RECHECK_AFTER = 0.25  # seconds a kept value is served before Redis is asked whether it changed


class RedisCache:
    """Implements the Cache port on Redis.

    Keys live under ``{namespace}:{FORMAT_VERSION}:cache:`` (circuits, cool-downs, locks and
    limits have their own sub-namespaces, so clearing the cache leaves them alone); Redis
    expires each one at the end of its stale window. Values are a 24-byte header of times
    plus the compact codec's JSON. Hits and misses are counted by this process; the number
    of entries is counted in Redis at most every 10 s, within a time budget, so health polls
    cannot turn into keyspace scans.

    Decoding a thousand candles on every hit would cost more than the rest of the request, so
    the process keeps the values it decoded (or stored), by key, with their header. A lookup
    of a kept value asks Redis at most every ``RECHECK_AFTER`` seconds whether it changed, by
    reading only the 24-byte header (GETRANGE): the same header (a write's own time to the
    microsecond, and its TTLs) means the same value, and
    nothing more is read. So a value another replica replaced or cleared is served here for
    at most a quarter of a second more; expiry is checked locally on every lookup.
    """

    def __init__(self, client: Redis, clock: Clock, namespace: str = DEFAULT_NAMESPACE) -> None:
        self._client = client
        self._clock = clock
        self._stamps = WriteStamps(clock)
        self._prefix = f"{namespace}:{FORMAT_VERSION}:cache:"
        self._lookups = LookupCounter()
        self._size = 0
        self._size_counted_at = float("-inf")
        self._decoded: OrderedDict[str, tuple[bytes, CacheEntry, float]] = OrderedDict()

    @property
    def prefix(self) -> str:
        """The key prefix of every entry this service stores."""
        return self._prefix

    async def get(self, key: str) -> CacheEntry | None:
        """The entry while fresh or within its stale window."""
        name = self._prefix + key
        kept = self._decoded.get(key)
        if (
            kept is not None
            and self._clock.monotonic() - kept[2] < RECHECK_AFTER
            and kept[1].fresh_until > self._clock.now()  # past it, only Redis knows about a refill
        ):
            self._decoded.move_to_end(key)
            entry: CacheEntry | None = kept[1]
        elif kept is None:
            entry = await self._read(key, name)
        else:
            header = await self._client.getrange(name, 0, _HEADER.size - 1)
            if header == kept[0]:
                self._keep(key, header, kept[1])
                entry = kept[1]
            elif not header:
                if self._decoded.get(key) is kept:  # not replaced while we waited
                    del self._decoded[key]
                entry = None
            else:
                entry = await self._read(key, name)
        return self._lookups.servable(entry, self._clock.now())

    def _keep(self, key: str, header: bytes, entry: CacheEntry) -> None:
        """Keep ``entry`` unless a newer one (a later write) was kept while we waited for it."""
        current = self._decoded.get(key)
        if current is not None and current[1].stored_at > entry.stored_at:
            return
        self._decoded[key] = (header, entry, self._clock.monotonic())
        self._decoded.move_to_end(key)
        if len(self._decoded) > _DECODED_MAX:
            self._decoded.popitem(last=False)

    async def _read(self, key: str, name: str) -> CacheEntry | None:
        blob = await self._client.get(name)
        entry = self._entry(blob) if blob is not None else None
        if entry is None:
            self._decoded.pop(key, None)
            return None
        self._keep(key, bytes(blob[: _HEADER.size]), entry)
        return entry

    async def set(self, key: str, value: Any, ttl: float, stale_ttl: float) -> CacheEntry:
        """Store ``value``; Redis drops it once the stale window is over."""
        now = self._stamps.next()
        header = _HEADER.pack(now, now + ttl, now + ttl + stale_ttl)
        await self._client.set(self._prefix + key, header + encode(value), px=max(int((ttl + stale_ttl) * 1000), 1))
        entry = CacheEntry(value, now, now + ttl, now + ttl + stale_ttl)
        self._keep(key, header, entry)
        return entry

    async def clear(self) -> int:
        """Unlink every cache key of this service (never FLUSHDB, never other state)."""
        removed = 0
        batch: list[bytes] = []
        async for key in self._client.scan_iter(match=self._prefix + "*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                removed += await self._client.unlink(*batch)
                batch.clear()
        if batch:
            removed += await self._client.unlink(*batch)
        self._size, self._size_counted_at = 0, self._clock.monotonic()
        self._decoded.clear()
        return removed

    async def stats(self) -> CacheStats:
        """Counters of this process and the (recently counted) number of entries in Redis."""
        if self._clock.monotonic() - self._size_counted_at >= _SIZE_EVERY:
            self._size_counted_at = self._clock.monotonic()
            self._size = await self._count_entries()
        return CacheStats(backend="redis", size=self._size, hits=self._lookups.hits, misses=self._lookups.misses, max_entries=None)

    async def _count_entries(self) -> int:
        counted = 0
        try:
            async with asyncio.timeout(_SIZE_BUDGET):
                async for _ in self._client.scan_iter(match=self._prefix + "*", count=1000):
                    counted += 1
        except TimeoutError:
            pass  # a huge shared keyspace: report what was counted
        return counted

    @staticmethod
    def _entry(blob: bytes) -> CacheEntry | None:
        try:
            stored_at, fresh_until, stale_until = _HEADER.unpack_from(blob)
            return CacheEntry(decode(blob[_HEADER.size :]), stored_at, fresh_until, stale_until)
        except (struct.error, CodecError):
            return None  # unreadable: treat as absent, a fresh value will overwrite it
