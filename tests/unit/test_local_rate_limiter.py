"""The in-process client limiter: at most N requests in any 60 s per client and group."""

from __future__ import annotations

from adapters.resilience.local_rate_limiter import LocalClientRateLimiter
from tests.fakes import FakeClock


async def test_n_requests_pass_then_the_next_waits_for_the_oldest_to_leave_the_window() -> None:
    clock = FakeClock()
    limiter = LocalClientRateLimiter(clock)
    decisions = []
    for _ in range(3):
        decisions.append(await limiter.hit("prices", "1.2.3.4", 3))
        clock.advance(10)
    assert [d.allowed for d in decisions] == [True, True, True]
    assert [d.remaining for d in decisions] == [2, 1, 0]
    refused = await limiter.hit("prices", "1.2.3.4", 3)  # at t=30: the first left at 60
    assert not refused.allowed and refused.remaining == 0
    assert refused.retry_after == 30.0
    clock.advance(30)  # t=60, the first request's time plus the window: it has left
    again = await limiter.hit("prices", "1.2.3.4", 3)
    assert again.allowed and again.remaining == 0


async def test_refused_requests_are_not_counted() -> None:
    clock = FakeClock()
    limiter = LocalClientRateLimiter(clock)
    await limiter.hit("ohlcv", "c", 1)
    for _ in range(5):
        clock.advance(1)
        assert not (await limiter.hit("ohlcv", "c", 1)).allowed
    clock.advance(55)  # t=60, the counted request's time plus the window
    assert (await limiter.hit("ohlcv", "c", 1)).allowed


async def test_clients_and_groups_are_counted_apart() -> None:
    limiter = LocalClientRateLimiter(FakeClock())
    assert (await limiter.hit("ohlcv", "a", 1)).allowed
    assert (await limiter.hit("ohlcv", "b", 1)).allowed
    assert (await limiter.hit("prices", "a", 1)).allowed
    assert not (await limiter.hit("ohlcv", "a", 1)).allowed


async def test_idle_clients_are_forgotten() -> None:
    clock = FakeClock()
    limiter = LocalClientRateLimiter(clock, sweep_every=3)
    await limiter.hit("ohlcv", "gone", 5)
    clock.advance(61)
    for _ in range(3):
        await limiter.hit("ohlcv", "live", 5)
    assert len(limiter) == 1  # "gone" was forgotten, "live" kept
    assert (await limiter.hit("ohlcv", "live", 5)).remaining == 1  # its count survived the sweep


async def test_a_sweep_never_loses_the_request_being_counted() -> None:
    limiter = LocalClientRateLimiter(FakeClock(), sweep_every=1)  # a sweep on every request
    decisions = [await limiter.hit("prices", "c", 2) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, False, False]
