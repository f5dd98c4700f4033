"""Our own request budget per provider, so a spike of our traffic cannot get us banned."""

from __future__ import annotations

import time
from collections.abc import Mapping

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from domain.errors import BudgetExhausted


class LimitsUpstreamBudgets:
    """Implements the UpstreamBudgets port with moving windows from the ``limits`` library.

    ``budgets`` maps provider id to a budget in limits notation (``4800/minute``); ``costs``
    maps provider id to what one call spends (Binance counts request weight: 2 per klines or
    ticker call). Providers without a budget are not limited. ``pause_until`` stops calls to a
    provider that reported our usage near its limit (Binance's used-weight header).
    """

    def __init__(
        self,
        budgets: Mapping[str, str],
        costs: Mapping[str, int] | None = None,
        storage: Storage | None = None,
    ) -> None:
        self._items: dict[str, RateLimitItem] = {name: parse(text) for name, text in budgets.items()}
        self._costs = dict(costs or {})
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())
        self._paused_until: dict[str, float] = {}

    async def take(self, provider: str) -> None:
        """Spend one call's cost from ``provider``'s budget or raise ``BudgetExhausted``."""
        now = time.time()
        paused = self._paused_until.get(provider, 0.0)
        if now < paused:
            raise BudgetExhausted(provider, "provider reports our usage near its limit",
                                  retry_after=round(paused - now, 3))  # fmt: skip
        item = self._items.get(provider)
        if item is None:
            return
        if not await self._limiter.hit(item, "upstream", provider, cost=self._costs.get(provider, 1)):
            stats = await self._limiter.get_window_stats(item, "upstream", provider)
            raise BudgetExhausted(
                provider, f"our request budget ({item}) is spent",
                retry_after=round(max(stats.reset_time - time.time(), 0.0), 3),
            )  # fmt: skip

    def pause_until(self, provider: str, until: float) -> None:
        """Make no call to ``provider`` before ``until`` (epoch seconds)."""
        self._paused_until[provider] = max(self._paused_until.get(provider, 0.0), until)
