"""The StreamLease contract, for the in-process lease (one replica: always the holder) and
the Redis lease (one holder among replicas, taken over when it stops renewing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from adapters.live.memory_lease import MemoryStreamLease
from adapters.live.redis_lease import RedisStreamLease
from domain.ports import StreamLease
from tests.contract.live_state import LIVE_BACKENDS, PREFIX, redis_of

TTL = 5.0
SHORT_TTL = 0.2


@dataclass
class LeaseCase:
    """Two replicas' leases and whether only one of them can hold it."""

    lease: StreamLease
    other: StreamLease
    exclusive: bool


@pytest.fixture(params=LIVE_BACKENDS)
async def lease_case(request: pytest.FixtureRequest) -> AsyncIterator[LeaseCase]:
    if request.param == "memory":
        yield LeaseCase(MemoryStreamLease(), MemoryStreamLease(), exclusive=False)
        return
    async with redis_of(request) as client:
        yield LeaseCase(RedisStreamLease(client, PREFIX), RedisStreamLease(client, PREFIX), exclusive=True)


async def test_a_free_lease_is_taken_and_renewed_by_its_holder(lease_case: LeaseCase) -> None:
    assert await lease_case.lease.hold(TTL) is True
    assert await lease_case.lease.hold(TTL) is True


async def test_a_held_lease_is_refused_to_another_replica_only_where_it_is_shared(
    lease_case: LeaseCase,
) -> None:
    await lease_case.lease.hold(TTL)
    assert await lease_case.other.hold(TTL) is not lease_case.exclusive
    assert await lease_case.lease.hold(TTL) is True


async def test_a_released_lease_is_taken_by_the_next_replica_at_once(lease_case: LeaseCase) -> None:
    await lease_case.lease.hold(TTL)
    await lease_case.lease.release()
    assert await lease_case.other.hold(TTL) is True


async def test_a_replica_that_does_not_hold_it_cannot_release_it(lease_case: LeaseCase) -> None:
    await lease_case.lease.hold(TTL)
    await lease_case.other.release()
    assert await lease_case.other.hold(TTL) is not lease_case.exclusive
    assert await lease_case.lease.hold(TTL) is True


async def test_a_holder_that_stops_renewing_loses_it_to_another_after_the_ttl(lease_case: LeaseCase) -> None:
    assert await lease_case.lease.hold(SHORT_TTL) is True
    await asyncio.sleep(SHORT_TTL / 2)
    assert await lease_case.other.hold(SHORT_TTL) is not lease_case.exclusive
    await asyncio.sleep(SHORT_TTL + 0.1)
    assert await lease_case.other.hold(TTL) is True
    assert await lease_case.lease.hold(TTL) is not lease_case.exclusive


async def test_renewing_keeps_it_past_the_first_ttl(lease_case: LeaseCase) -> None:
    await lease_case.lease.hold(0.3)
    await asyncio.sleep(0.2)
    assert await lease_case.lease.hold(0.3) is True  # renewed until 0.5 s from the start
    await asyncio.sleep(0.2)  # past the first ttl; not renewed since
    assert await lease_case.other.hold(TTL) is not lease_case.exclusive


async def test_releasing_a_lease_never_held_is_harmless(lease_case: LeaseCase) -> None:
    await lease_case.lease.release()
    assert await lease_case.lease.hold(TTL) is True
