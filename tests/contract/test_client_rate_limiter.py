"""The ClientRateLimiter contract: at most N requests of a client in any 60 s, per group, for the
in-process limiter, the Redis limiter and the failover wrapper (Redis up, Redis out).

Windows are 60 s on each limiter's own clock (the Redis server's for Redis), so the tests stay
well inside one window and leave moving it to the adapters' own tests.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator

import pytest

from adapters.failover.client_rate_limiter import FailoverClientRateLimiter
from adapters.resilience.local_rate_limiter import LocalClientRateLimiter
from adapters.resilience.redis_rate_limiter import RedisClientRateLimiter
from domain.ports import ClientRateLimiter
from tests.contract.shared_state import BACKENDS, PREFIX, redis_for, standing_guard
from tests.fakes import FakeClock


@pytest.fixture(params=BACKENDS)
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[ClientRateLimiter]:
    if request.param == "memory":
        yield LocalClientRateLimiter(FakeClock())
        return
    async with redis_for(request, request.param) as client:
        if request.param == "redis":
            yield RedisClientRateLimiter(client, PREFIX)
        else:
            local = LocalClientRateLimiter(FakeClock())
            yield FailoverClientRateLimiter(RedisClientRateLimiter(client, PREFIX), local, standing_guard())


def test_it_has_the_client_rate_limiters_methods(limiter: ClientRateLimiter) -> None:
    assert inspect.iscoroutinefunction(limiter.hit) and inspect.iscoroutinefunction(limiter.refund)
    assert hasattr(ClientRateLimiter, "hit") and hasattr(ClientRateLimiter, "refund")


async def test_the_first_n_requests_pass_and_say_how_many_remain(limiter: ClientRateLimiter) -> None:
    decisions = [await limiter.hit("prices", "10.0.0.1", 3) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, True]
    assert [d.remaining for d in decisions] == [2, 1, 0]
    assert [d.limit for d in decisions] == [3, 3, 3]
    assert [d.retry_after for d in decisions] == [0.0, 0.0, 0.0]


async def test_the_next_is_refused_until_the_oldest_leaves_the_window(limiter: ClientRateLimiter) -> None:
    for _ in range(2):
        await limiter.hit("ohlcv", "10.0.0.1", 2)
    refused = await limiter.hit("ohlcv", "10.0.0.1", 2)
    assert (refused.allowed, refused.remaining, refused.limit) == (False, 0, 2)
    assert 0.0 < refused.retry_after <= 60.0


async def test_clients_and_groups_have_their_own_windows(limiter: ClientRateLimiter) -> None:
    assert (await limiter.hit("market", "10.0.0.1", 1)).allowed
    assert not (await limiter.hit("market", "10.0.0.1", 1)).allowed
    assert (await limiter.hit("market", "10.0.0.2", 1)).allowed  # another client
    assert (await limiter.hit("sentiment", "10.0.0.1", 1)).allowed  # another group


async def test_a_refunded_request_no_longer_counts(limiter: ClientRateLimiter) -> None:
    for _ in range(2):
        await limiter.hit("admin", "10.0.0.1", 2)
    await limiter.refund("admin", "10.0.0.1")
    again = await limiter.hit("admin", "10.0.0.1", 2)
    assert (again.allowed, again.remaining) == (True, 0)
    assert not (await limiter.hit("admin", "10.0.0.1", 2)).allowed


async def test_a_refund_touches_only_its_client_and_group(limiter: ClientRateLimiter) -> None:
    await limiter.refund("admin", "10.0.0.9")  # nothing counted: nothing happens
    assert (await limiter.hit("admin", "10.0.0.1", 1)).allowed
    await limiter.refund("admin", "10.0.0.2")
    await limiter.refund("prices", "10.0.0.1")
    assert not (await limiter.hit("admin", "10.0.0.1", 1)).allowed
