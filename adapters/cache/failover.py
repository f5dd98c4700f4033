"""Keep serving when the shared cache fails: fall back to the in-process cache."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from redis.exceptions import RedisError

from domain.ports import Cache, CacheEntry, CacheStats, Clock

T = TypeVar("T")
log = structlog.get_logger("cache")
OUTAGE_ERRORS = (RedisError, OSError, TimeoutError)


class FailoverCache:
    """Implements the Cache port over a shared ``primary`` with an in-process ``fallback``.

    Every primary call is bounded by ``op_timeout``. On an outage the fallback serves, the
    state turns ``degraded`` (logged once per transition) and the primary is tried again
    every ``retry_interval`` seconds, so recovery needs no restart.
    """

    def __init__(
        self,
        primary: Cache,
        fallback: Cache,
        clock: Clock,
        op_timeout: float = 0.25,
        retry_interval: float = 2.0,
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._clock = clock
        self._op_timeout = op_timeout
        self._retry_interval = retry_interval
        self._down_since: float | None = None
        self._retry_at = 0.0

    @property
    def healthy(self) -> bool:
        """False while the primary is considered down."""
        return self._down_since is None

    async def get(self, key: str) -> CacheEntry | None:
        """From the primary, or the fallback during an outage."""
        return await self._either(lambda cache: cache.get(key))

    async def set(self, key: str, value: Any, ttl: float, stale_ttl: float) -> None:
        """Into the primary, or the fallback during an outage."""
        await self._either(lambda cache: cache.set(key, value, ttl, stale_ttl))

    async def clear(self) -> int:
        """Clear both: entries written to the fallback during an outage go too."""
        removed = await self._fallback.clear()
        return removed + (await self._either(lambda cache: cache.clear(), use_fallback=False) or 0)

    async def stats(self) -> CacheStats:
        """The primary's counters with its state; the fallback's during an outage."""
        stats = await self._either(lambda cache: cache.stats())
        return CacheStats(
            backend="redis",
            size=stats.size,
            hits=stats.hits,
            misses=stats.misses,
            max_entries=stats.max_entries,
            state="ok" if self.healthy else "degraded",
        )

    async def _either(self, call: Callable[[Cache], Awaitable[T]], use_fallback: bool = True) -> T:
        if self._down_since is not None and self._clock.monotonic() < self._retry_at:
            return await call(self._fallback) if use_fallback else None  # type: ignore[return-value]
        try:
            async with asyncio.timeout(self._op_timeout):
                result = await call(self._primary)
        except OUTAGE_ERRORS as error:
            self._mark_down(error)
            return await call(self._fallback) if use_fallback else None  # type: ignore[return-value]
        if self._down_since is not None:
            log.warning("shared cache back", down_for_s=round(self._clock.monotonic() - self._down_since, 1))
            self._down_since = None
        return result

    def _mark_down(self, error: BaseException) -> None:
        now = self._clock.monotonic()
        if self._down_since is None:
            log.error("shared cache unavailable, serving from the in-process cache",
                      error=type(error).__name__, detail=str(error)[:200])  # fmt: skip
            self._down_since = now
        self._retry_at = now + self._retry_interval
