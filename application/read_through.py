"""The caching decision every use case shares: fresh hit, single-flight fetch, stale-if-error."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from application.served import Served
from domain.errors import AllProvidersFailed
from domain.ports import Cache, CacheEntry, Clock, FillLocks, NoTelemetry, Telemetry

T = TypeVar("T")


class ReadThrough:
    """Serve from cache while fresh; otherwise fetch once per key however many callers wait.

    Within a process, concurrent misses of a key share one fetch. Across replicas sharing a
    cache, ``fill_locks`` elect one filler per key; the others poll the cache for its value
    for up to ``fill_wait`` seconds, then fetch themselves rather than fail. When the fetch
    fails with ``AllProvidersFailed`` and a copy within CACHE_STALE_TTL exists, that copy is
    served marked stale. Failures are never cached.

    A caller that knows what is current by other means (a live stream holds the newest candles)
    passes ``fetched_since``: an entry is then current when it was fetched at or after that
    moment, whatever its TTL says, and fetched again otherwise.
    """

    def __init__(
        self,
        cache: Cache,
        clock: Clock,
        stale_ttl: float,
        fill_locks: FillLocks | None = None,
        fill_wait: float = 10.0,
        poll_interval: float = 0.02,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._cache = cache
        self._clock = clock
        self._stale_ttl = stale_ttl
        self._locks = fill_locks
        self._fill_wait = fill_wait
        self._poll_interval = poll_interval
        self._telemetry = telemetry or NoTelemetry()
        self._in_flight: dict[str, asyncio.Task[Any]] = {}

    async def get(
        self, key: str, ttl: float, fetch: Callable[[], Awaitable[T]], fetched_since: float | None = None
    ) -> Served[T]:
        """Return the value for ``key``, fetching it with ``fetch`` when not current: not fresh,
        or, with ``fetched_since`` (epoch s), fetched before that moment.

        The fetch runs in its own task: a caller that goes away does not cancel it for the
        others who joined, and its result still fills the cache.
        """
        entry = await self._cache.get(key)
        kind = key.partition(":")[0]
        if entry is not None and self._current(entry, fetched_since):
            self._telemetry.cache_lookup(kind, True)
            return Served(entry.value, stale=False, fetched_at=entry.stored_at, request=key)
        self._telemetry.cache_lookup(kind, False)
        task = self._in_flight.get(key)
        if task is not None:
            self._telemetry.single_flight_joined(kind)
        else:
            task = asyncio.ensure_future(self._refresh(key, ttl, fetch, entry, fetched_since))
            self._in_flight[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        served: Served[T] = await asyncio.shield(task)
        if served.stale:
            self._telemetry.stale_served(kind)
        return served

    def _settle(self, key: str, task: asyncio.Task[Any]) -> None:
        if self._in_flight.get(key) is task:
            del self._in_flight[key]
        if not task.cancelled():
            task.exception()  # mark retrieved: every waiter may have gone

    def _current(self, entry: CacheEntry, fetched_since: float | None) -> bool:
        if fetched_since is None:
            return entry.fresh_until > self._clock.now()
        return entry.stored_at >= fetched_since

    async def _refresh(
        self,
        key: str,
        ttl: float,
        fetch: Callable[[], Awaitable[T]],
        entry: CacheEntry | None,
        fetched_since: float | None = None,
    ) -> Served[T]:
        if self._locks is None:
            return await self._fetch(key, ttl, fetch, entry)
        deadline = self._clock.monotonic() + self._fill_wait
        while not await self._locks.try_acquire(key, self._fill_wait):
            if self._clock.monotonic() >= deadline:
                return await self._fetch(key, ttl, fetch, entry)  # the filler is stuck: don't fail
            await asyncio.sleep(self._poll_interval)
            filled = await self._fresh(key, fetched_since)
            if filled is not None:
                return Served(filled.value, stale=False, fetched_at=filled.stored_at, request=key)
        try:
            # Another replica may have stored the value and released the lock between our
            # cache miss and taking the lock: one more read spares a second upstream call.
            filled = await self._fresh(key, fetched_since)
            if filled is not None:
                return Served(filled.value, stale=False, fetched_at=filled.stored_at, request=key)
            return await self._fetch(key, ttl, fetch, entry)
        finally:
            await self._locks.release(key)

    async def _fresh(self, key: str, fetched_since: float | None) -> CacheEntry | None:
        entry = await self._cache.get(key)
        return entry if entry is not None and self._current(entry, fetched_since) else None

    async def _fetch(
        self, key: str, ttl: float, fetch: Callable[[], Awaitable[T]], entry: CacheEntry | None
    ) -> Served[T]:
        try:
            value = await fetch()
        except AllProvidersFailed:
            if entry is not None and entry.stale_until > self._clock.now():
                return Served(entry.value, stale=True, fetched_at=entry.stored_at, request=key)
            raise
        stored = await self._cache.set(key, value, ttl, self._stale_ttl)
        return Served(value, stale=False, fetched_at=stored.stored_at, request=key)
