"""Our own request budget per provider, so a spike of our traffic cannot get us banned."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from limits import RateLimitItem, parse

from domain.errors import BudgetExhausted
from domain.ports import Clock


class MovingWindowBudgets:
    """Implements the UpstreamBudgets port with a moving window per provider, in this process.

    ``budgets`` maps provider id to a budget in limits notation (``4800/minute``); ``costs``
    maps provider id to what one call spends (Binance counts request weight: 2 per klines or
    ticker call). Providers without a budget are not limited. ``pause_until`` stops calls to a
    provider that reported our usage near its limit (Binance's used-weight header).

    The window is the ``limits`` library's moving window, kept on our clock: a call is refused
    when what was spent at or after ``now - period``, plus its cost, would exceed the budget;
    a refusal is not spent, and says when the oldest spending inside the window leaves it.
    """

    def __init__(
        self, budgets: Mapping[str, str], clock: Clock, costs: Mapping[str, int] | None = None
    ) -> None:
        self._items: dict[str, RateLimitItem] = {name: parse(text) for name, text in budgets.items()}
        self._clock = clock
        self._costs = dict(costs or {})
        self._spent: dict[str, deque[float]] = {}  # provider -> one time per unit spent, oldest first
        self._paused_until: dict[str, float] = {}

    async def take(self, provider: str) -> None:
        """Spend one call's cost from ``provider``'s budget or raise ``BudgetExhausted``."""
        now = self._clock.now()
        paused = self._paused_until.get(provider, 0.0)
        if now < paused:
            raise BudgetExhausted(provider, "provider reports our usage near its limit",
                                  retry_after=round(paused - now, 3))  # fmt: skip
        item = self._items.get(provider)
        if item is None:
            return
        cost = self._costs.get(provider, 1)
        period = item.get_expiry()
        horizon = now - period
        spent = self._spent.setdefault(provider, deque())
        while spent and spent[0] < horizon:  # left the window for good
            spent.popleft()
        if len(spent) + cost > item.amount:
            raise BudgetExhausted(
                provider, f"our request budget ({item}) is spent",
                retry_after=round(max(_window_reset(spent, horizon, now, period) - now, 0.0), 3),
            )  # fmt: skip
        spent.extend([now] * cost)

    def pause_until(self, provider: str, until: float) -> None:
        """Make no call to ``provider`` before ``until`` (epoch seconds)."""
        self._paused_until[provider] = max(self._paused_until.get(provider, 0.0), until)


def _window_reset(spent: deque[float], horizon: float, now: float, period: int) -> float:
    # As limits reports it: the oldest spending strictly inside the window, plus the period
    # (nothing spent at all: a whole period from now).
    for at in spent:
        if at > horizon:
            return at + period
    return spent[0] + period if spent else now + period
