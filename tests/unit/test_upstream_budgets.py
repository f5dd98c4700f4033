"""Our own upstream budgets: a moving window per provider on the Clock port, spent by cost."""

from __future__ import annotations

import pytest

from adapters.resilience.upstream_budget import MovingWindowBudgets
from domain.errors import BudgetExhausted
from tests.fakes import FakeClock


async def test_a_budget_is_spent_by_cost_and_refills_as_spending_leaves_the_window() -> None:
    clock = FakeClock()
    budgets = MovingWindowBudgets({"binance": "6/minute"}, clock, costs={"binance": 2})
    for _ in range(3):
        await budgets.take("binance")
        clock.advance(10)
    with pytest.raises(BudgetExhausted) as caught:  # at t=30 every unit is spent
        await budgets.take("binance")
    assert caught.value.retry_after == 30.0  # the first call leaves the window at t=60
    clock.advance(29)
    with pytest.raises(BudgetExhausted):
        await budgets.take("binance")
    clock.advance(1.001)  # the first call has left (at exactly t=60 it still counts)
    await budgets.take("binance")
    with pytest.raises(BudgetExhausted):  # refusals were not spent, the next call is
        await budgets.take("binance")


async def test_providers_are_counted_apart_and_those_without_a_budget_are_free() -> None:
    budgets = MovingWindowBudgets({"kraken": "1/second", "coingecko": "1/second"}, FakeClock())
    await budgets.take("kraken")
    await budgets.take("coingecko")
    for _ in range(100):
        await budgets.take("binance")
    with pytest.raises(BudgetExhausted) as caught:
        await budgets.take("kraken")
    assert "1 per 1 second" in caught.value.reason


async def test_a_cost_above_the_whole_budget_is_refused_for_a_period() -> None:
    budgets = MovingWindowBudgets({"binance": "1/minute"}, FakeClock(), costs={"binance": 2})
    with pytest.raises(BudgetExhausted) as caught:
        await budgets.take("binance")
    assert caught.value.retry_after == 60.0


async def test_a_pause_holds_until_its_time_on_the_clock() -> None:
    clock = FakeClock(now=1_800_000_000.0)
    budgets = MovingWindowBudgets({}, clock)
    budgets.pause_until("binance", 1_800_000_060.0)
    budgets.pause_until("binance", 1_800_000_030.0)  # an earlier pause never shortens it
    with pytest.raises(BudgetExhausted) as caught:
        await budgets.take("binance")
    assert caught.value.retry_after == 60.0
    clock.advance(60)
    await budgets.take("binance")
