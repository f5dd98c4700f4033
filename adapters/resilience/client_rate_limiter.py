"""Per-client REST/gRPC limits on the ``limits`` library."""

from __future__ import annotations

import time

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from domain.ports import RateDecision


class LimitsClientRateLimiter:
    """Implements the ClientRateLimiter port with a moving window per client and group."""

    def __init__(self, storage: Storage | None = None) -> None:
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())
        self._items: dict[int, RateLimitItemPerMinute] = {}

    async def hit(self, group: str, client: str, per_minute: int) -> RateDecision:
        """Count one request; refused requests are not counted."""
        item = self._items.get(per_minute)
        if item is None:
            item = self._items[per_minute] = RateLimitItemPerMinute(per_minute)
        allowed = await self._limiter.hit(item, group, client)
        stats = await self._limiter.get_window_stats(item, group, client)
        return RateDecision(
            allowed=allowed,
            limit=per_minute,
            remaining=max(stats.remaining, 0),
            retry_after=0.0 if allowed else max(stats.reset_time - time.time(), 0.0),
        )
