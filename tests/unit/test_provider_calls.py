"""ProviderCalls: deadlines, politeness guards, circuits and health from real traffic."""

from __future__ import annotations

import pytest

from application.provider_calls import ProviderCalls
from domain.errors import (
    BudgetExhausted,
    CircuitOpen,
    ProviderUnavailable,
    UpstreamBlocked,
    UpstreamRateLimited,
    UpstreamRejected,
)
from domain.interval import Interval
from domain.symbol import Symbol
from tests.fakes import FakeClock, FakeOhlcvProvider
from tests.unit.resilience_fakes import FakeBreakers, FakeBudgets, FakeCooldowns

T0 = 1_700_000_000.0
BTC = Symbol("BTC")
HOUR = Interval("1h")


class Operation:
    """A provider operation that succeeds, or raises ``error``; counts its runs."""

    def __init__(self, error: Exception | None = None, clock: FakeClock | None = None, takes: float = 0.0) -> None:
        self.error = error
        self.clock = clock
        self.takes = takes
        self.runs = 0

    async def __call__(self) -> str:
        self.runs += 1
        if self.clock is not None:
            self.clock.advance(self.takes)
        if self.error is not None:
            raise self.error
        return "answer"


async def health_of(calls: ProviderCalls, name: str):  # type: ignore[no-untyped-def]
    return next(h for h in await calls.health() if h.name == name)


async def fail(calls: ProviderCalls, name: str, times: int, reason: str = "HTTP 503") -> None:
    for _ in range(times):
        with pytest.raises(ProviderUnavailable):
            await calls.run(name, Operation(ProviderUnavailable(name, reason)))


async def test_a_provider_slower_than_the_request_timeout_is_unavailable() -> None:
    calls = ProviderCalls(FakeClock(T0), request_timeout=0.05)
    slow = FakeOhlcvProvider("binance", delay=30.0)
    with pytest.raises(ProviderUnavailable) as caught:
        await calls.run("binance", lambda: slow.fetch_ohlcv(BTC, HOUR, 10))
    assert caught.value.provider == "binance"
    assert slow.calls == [("BTCUSDT", "1h", 10)]
    health = await health_of(calls, "binance")
    assert (health.calls, health.failures) == (1, 1)
    assert health.error_message == caught.value.reason


async def test_a_successful_call_returns_its_answer_and_is_recorded() -> None:
    clock = FakeClock(T0)
    calls = ProviderCalls(clock, request_timeout=5)
    calls.register("binance")
    assert await calls.run("binance", Operation(clock=clock, takes=0.25)) == "answer"
    health = await health_of(calls, "binance")
    assert health.status == "online"
    assert health.circuit == "closed"
    assert health.latency_ms == pytest.approx(250.0)
    assert health.last_check == T0 + 0.25
    assert health.error_message is None
    assert (health.calls, health.failures) == (1, 0)


async def test_registered_providers_are_reported_before_any_call_in_registration_order() -> None:
    calls = ProviderCalls(FakeClock(T0), request_timeout=5)
    for name in ("binance", "kraken", "coingecko"):
        calls.register(name)
    report = await calls.health()
    assert [h.name for h in report] == ["binance", "kraken", "coingecko"]
    # Never called: "unknown" (issue 13; it said "online" with no check behind it).
    assert all(h.status == "unknown" and h.latency_ms is None and h.last_check is None for h in report)
    assert tuple(h.name for h in await calls.health()) == ("binance", "kraken", "coingecko")


@pytest.mark.parametrize(("failures", "status"), [(0, "unknown"), (1, "degraded"), (2, "degraded"), (3, "offline"), (5, "offline")])
async def test_status_follows_consecutive_failures(failures: int, status: str) -> None:
    calls = ProviderCalls(FakeClock(T0), request_timeout=5)
    calls.register("kraken")
    await fail(calls, "kraken", failures)
    assert (await health_of(calls, "kraken")).status == status


async def test_offline_after_is_configurable() -> None:
    calls = ProviderCalls(FakeClock(T0), request_timeout=5, offline_after=1)
    await fail(calls, "kraken", 1)
    assert (await health_of(calls, "kraken")).status == "offline"


async def test_a_success_brings_an_offline_provider_back_online() -> None:
    calls = ProviderCalls(FakeClock(T0), request_timeout=5)
    await fail(calls, "kraken", 3, reason="HTTP 502")
    offline = await health_of(calls, "kraken")
    assert (offline.status, offline.error_message) == ("offline", "HTTP 502")
    await calls.run("kraken", Operation())
    health = await health_of(calls, "kraken")
    assert health.status == "online"
    assert health.error_message is None
    assert (health.calls, health.failures) == (4, 3)


async def test_a_provider_switched_off_by_configuration_is_disabled() -> None:
    calls = ProviderCalls(FakeClock(T0), request_timeout=5)
    calls.register("coincap", enabled=False)
    calls.register("coingecko")
    assert calls.is_enabled("coincap") is False
    assert calls.is_enabled("coingecko") is True
    assert calls.is_enabled("never-registered") is True
    assert (await health_of(calls, "coincap")).status == "disabled"


async def test_upstream_rejected_is_passed_on_but_counts_as_alive() -> None:
    calls = ProviderCalls(FakeClock(T0), request_timeout=5)
    await fail(calls, "kraken", 2)
    with pytest.raises(UpstreamRejected):
        await calls.run("kraken", Operation(UpstreamRejected("kraken", "unknown asset pair")))
    health = await health_of(calls, "kraken")
    assert health.status == "online"
    assert health.error_message is None
    assert health.failures == 2


async def test_an_open_circuit_refuses_without_running_and_reads_offline() -> None:
    breakers = FakeBreakers()
    breakers.set_state("binance", "open", retry_after=42.0)
    calls = ProviderCalls(FakeClock(T0), request_timeout=5, breakers=breakers)
    calls.register("binance")
    operation = Operation()
    with pytest.raises(CircuitOpen) as caught:
        await calls.run("binance", operation)
    assert caught.value.retry_after == 42.0
    assert operation.runs == 0
    health = await health_of(calls, "binance")
    assert (health.status, health.circuit) == ("offline", "open")


async def test_a_half_open_circuit_reads_degraded() -> None:
    breakers = FakeBreakers()
    breakers.set_state("binance", "half_open")
    calls = ProviderCalls(FakeClock(T0), request_timeout=5, breakers=breakers)
    calls.register("binance")
    health = await health_of(calls, "binance")
    assert (health.status, health.circuit) == ("degraded", "half_open")


async def test_calls_run_through_the_providers_circuit() -> None:
    breakers = FakeBreakers()
    calls = ProviderCalls(FakeClock(T0), request_timeout=5, breakers=breakers)
    assert await calls.run("kraken", Operation()) == "answer"
    assert breakers.calls == ["kraken"]


async def test_a_rate_limit_with_retry_after_starts_a_cool_down() -> None:
    clock = FakeClock(T0)
    cooldowns = FakeCooldowns()
    calls = ProviderCalls(clock, request_timeout=5, cooldowns=cooldowns)
    with pytest.raises(UpstreamRateLimited):
        await calls.run("binance", Operation(UpstreamRateLimited("binance", "HTTP 429", retry_after=30)))
    assert cooldowns.holds == [("binance", T0 + 30)]

    clock.advance(10)
    refused = Operation()
    with pytest.raises(CircuitOpen) as caught:
        await calls.run("binance", refused)
    assert refused.runs == 0
    assert caught.value.retry_after == pytest.approx(20)

    clock.advance(20)
    assert await calls.run("binance", Operation()) == "answer"


async def test_a_block_with_retry_after_starts_a_cool_down_too() -> None:
    clock = FakeClock(T0)
    cooldowns = FakeCooldowns()
    calls = ProviderCalls(clock, request_timeout=5, cooldowns=cooldowns)
    with pytest.raises(UpstreamBlocked):
        await calls.run("binance", Operation(UpstreamBlocked("binance", "HTTP 451", retry_after=3600)))
    assert cooldowns.holds == [("binance", T0 + 3600)]

    clock.advance(3599)
    refused = Operation()
    with pytest.raises(CircuitOpen) as caught:
        await calls.run("binance", refused)
    assert refused.runs == 0
    assert caught.value.retry_after == pytest.approx(1)

    clock.advance(1)
    assert await calls.run("binance", Operation()) == "answer"


async def test_a_block_without_retry_after_starts_no_cool_down() -> None:
    cooldowns = FakeCooldowns()
    calls = ProviderCalls(FakeClock(T0), request_timeout=5, cooldowns=cooldowns)
    with pytest.raises(UpstreamBlocked):
        await calls.run("binance", Operation(UpstreamBlocked("binance", "HTTP 403")))
    assert cooldowns.holds == []


async def test_an_open_circuit_spends_no_budget() -> None:
    breakers = FakeBreakers()
    breakers.set_state("kraken", "open", retry_after=12.0)
    budgets = FakeBudgets()
    calls = ProviderCalls(FakeClock(T0), request_timeout=5, breakers=breakers, budgets=budgets)
    operation = Operation()
    with pytest.raises(CircuitOpen) as caught:
        await calls.run("kraken", operation)
    assert caught.value.retry_after == 12.0
    assert budgets.taken == []
    assert breakers.calls == [] and operation.runs == 0


async def test_an_open_circuit_is_reported_before_a_spent_budget() -> None:
    breakers = FakeBreakers()
    breakers.set_state("kraken", "open", retry_after=12.0)
    calls = ProviderCalls(FakeClock(T0), request_timeout=5, breakers=breakers,
                          budgets=FakeBudgets(spent={"kraken"}))  # fmt: skip
    with pytest.raises(CircuitOpen):
        await calls.run("kraken", Operation())


async def test_a_half_open_circuit_spends_budget_for_its_probe() -> None:
    breakers = FakeBreakers()
    breakers.set_state("kraken", "half_open")
    budgets = FakeBudgets()
    calls = ProviderCalls(FakeClock(T0), request_timeout=5, breakers=breakers, budgets=budgets)
    assert await calls.run("kraken", Operation()) == "answer"
    assert budgets.taken == ["kraken"]
    assert breakers.calls == ["kraken"]


async def test_a_cool_down_is_checked_first_and_spends_nothing() -> None:
    clock = FakeClock(T0)
    cooldowns = FakeCooldowns(held={"kraken": T0 + 5})
    breakers = FakeBreakers()
    breakers.set_state("kraken", "open", retry_after=50.0)
    budgets = FakeBudgets()
    calls = ProviderCalls(clock, request_timeout=5, breakers=breakers, cooldowns=cooldowns, budgets=budgets)
    with pytest.raises(CircuitOpen) as caught:
        await calls.run("kraken", Operation())
    assert "cooling down" in caught.value.reason
    assert caught.value.retry_after == pytest.approx(5)
    assert budgets.taken == [] and breakers.calls == []


async def test_a_rate_limit_without_retry_after_starts_no_cool_down() -> None:
    cooldowns = FakeCooldowns()
    calls = ProviderCalls(FakeClock(T0), request_timeout=5, cooldowns=cooldowns)
    with pytest.raises(UpstreamRateLimited):
        await calls.run("binance", Operation(UpstreamRateLimited("binance", "HTTP 429")))
    assert cooldowns.holds == []


async def test_a_spent_budget_refuses_without_running_or_touching_health() -> None:
    budgets = FakeBudgets(spent={"coingecko"})
    calls = ProviderCalls(FakeClock(T0), request_timeout=5, budgets=budgets)
    calls.register("coingecko")
    operation = Operation()
    with pytest.raises(BudgetExhausted):
        await calls.run("coingecko", operation)
    assert operation.runs == 0
    health = await health_of(calls, "coingecko")
    assert (health.status, health.calls) == ("unknown", 0)  # refused: still never called


async def test_an_available_budget_is_spent_once_per_call() -> None:
    budgets = FakeBudgets()
    calls = ProviderCalls(FakeClock(T0), request_timeout=5, budgets=budgets)
    await calls.run("coingecko", Operation())
    await calls.run("coingecko", Operation())
    assert budgets.taken == ["coingecko", "coingecko"]


@pytest.mark.parametrize(("circuit", "status"), [("open", "offline"), ("half_open", "degraded")])
async def test_a_provider_never_called_here_follows_a_circuit_opened_elsewhere(circuit: str, status: str) -> None:
    """Circuits may be shared (Redis): what another replica learnt beats "unknown"."""
    breakers = FakeBreakers()
    breakers.set_state("kraken", circuit)
    calls = ProviderCalls(FakeClock(T0), request_timeout=5, breakers=breakers)
    calls.register("kraken")
    assert (await health_of(calls, "kraken")).status == status
