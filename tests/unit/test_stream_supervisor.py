"""The stream supervisor: demand and its idle time, the lease (only its holder runs the
streams), statuses, the report, and a clean run/stop (fake streams, fake clock)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from domain.live import StreamKey, StreamStatus
from tests.fake_streams import ETH, M1, FakeLease
from tests.unit.live_world import CANDLES, IDLE_TIMEOUT, LEASE_TTL, TICKER, Worlds

ETH_CANDLES = StreamKey.candles(ETH, M1)


@pytest.fixture
async def worlds() -> AsyncIterator[Worlds]:
    made = Worlds()
    yield made
    await made.stop()


async def test_watched_streams_are_held_and_an_unwatched_one_lingers_for_the_idle_timeout(
    worlds: Worlds,
) -> None:
    world = await worlds()
    world.interest.watch(CANDLES)
    world.interest.watch(TICKER)
    await world.tick()
    assert world.binance.running
    assert world.binance.wanted == {CANDLES, TICKER}
    world.interest.unwatch(TICKER)
    world.clock.advance(IDLE_TIMEOUT - 0.5)
    await world.tick()
    assert world.binance.wanted == {CANDLES, TICKER}
    world.clock.advance(0.5)
    await world.tick()
    assert world.binance.wanted == {CANDLES}
    assert world.binance.wants == [{CANDLES, TICKER}, {CANDLES}]  # told only on change


async def test_another_replicas_demand_is_held_too(worlds: Worlds) -> None:
    world = await worlds()
    other = world.supervisor._demand  # the in-process demand stands for the shared one here
    await other.announce(frozenset({ETH_CANDLES}), LEASE_TTL)
    world.interest.watch(CANDLES)
    await world.tick()
    assert world.binance.wanted == {CANDLES}  # this replica's announcement replaced it
    world.interest.watch(ETH_CANDLES)
    await world.tick()
    assert world.binance.wanted == {CANDLES, ETH_CANDLES}


async def test_without_the_lease_no_stream_runs(worlds: Worlds) -> None:
    world = await worlds(FakeLease(held=False))
    world.interest.watch(CANDLES)
    await world.tick()
    assert not world.binance.running and not world.kraken.running
    assert world.binance.wants == []
    assert world.supervisor.holding is False


async def test_the_lease_is_renewed_every_third_of_its_ttl_and_tried_every_poll_without_it(
    worlds: Worlds,
) -> None:
    lease = FakeLease(held=True)
    world = await worlds(lease)
    await world.tick()
    world.clock.advance(LEASE_TTL / 3 - 0.01)
    await world.tick()
    assert lease.holds == 1
    world.clock.advance(0.01)
    await world.tick()
    assert lease.holds == 2
    lease.held = False
    world.clock.advance(LEASE_TTL / 3)
    await world.tick()
    assert lease.holds == 3
    world.clock.advance(0.05)  # the poll interval
    await world.tick()
    assert lease.holds == 4


async def test_losing_the_lease_stops_the_streams_and_taking_it_starts_them(worlds: Worlds) -> None:
    lease = FakeLease(held=True)
    world = await worlds(lease)
    world.interest.watch(CANDLES)
    await world.tick()
    assert world.binance.running and world.supervisor.report.holding
    lease.held = False
    world.clock.advance(LEASE_TTL / 3)
    await world.tick()
    assert not world.binance.running and not world.kraken.running
    assert world.binance.wanted == frozenset()
    assert world.supervisor.report.holding is False
    lease.held = True
    world.clock.advance(1)
    await world.tick()
    assert world.binance.running and world.binance.runs == 2
    assert world.binance.wanted == {CANDLES}


async def test_a_failed_renewal_keeps_the_streams_until_the_lease_it_had_runs_out(worlds: Worlds) -> None:
    lease = FakeLease(held=True)
    world = await worlds(lease)
    await world.tick()
    lease.error = ConnectionError("redis is out")
    world.clock.advance(LEASE_TTL - 0.01)
    await world.tick()
    assert world.binance.running
    world.clock.advance(0.1)  # past its end, and a retry is due: it fails again
    await world.tick()
    assert not world.binance.running


async def test_statuses_are_published_every_interval_and_on_change_while_holding(worlds: Worlds) -> None:
    world = await worlds()
    await world.tick()
    await world.settle()
    assert world.bus.published == [
        StreamStatus("binance", "connected", 0, None, 0),
        StreamStatus("kraken", "connected", 0, None, 0),
    ]
    await world.forget()
    world.interest.watch(CANDLES)
    await world.tick()  # binance now holds one stream: a change, published before it is due
    await world.settle()
    assert world.bus.published == [
        StreamStatus("binance", "connected", 1, None, 0),
        StreamStatus("kraken", "connected", 0, None, 0),
    ]
    await world.forget()
    world.clock.advance(0.5)
    await world.tick()
    await world.settle()
    assert world.bus.published == []  # no change, not due
    world.clock.advance(0.5)
    await world.tick()
    await world.settle()
    assert len(world.bus.published) == 2


async def test_the_report_is_the_local_streams_while_holding_and_what_was_heard_otherwise(
    worlds: Worlds,
) -> None:
    holder = await worlds()
    await holder.tick()
    holder.binance.state = "reconnecting"
    assert [s.state for s in holder.supervisor.report.statuses()] == ["reconnecting", "connected"]
    other = await worlds(FakeLease(held=False))
    await other.tick()
    other.supervisor.report.heard(StreamStatus("kraken", "down", 0, 12.5, 3))
    assert other.supervisor.report.statuses() == (
        StreamStatus("binance", "connected", 0, None, 0),  # nothing heard: its own idle adapter
        StreamStatus("kraken", "down", 0, 12.5, 3),
    )


async def test_stop_stops_the_streams_releases_the_lease_and_withdraws_the_demand(worlds: Worlds) -> None:
    lease = FakeLease(held=True)
    world = await worlds(lease)
    world.interest.watch(CANDLES)
    await world.tick()
    await world.supervisor.stop()
    assert not world.binance.running
    assert lease.releases == 1
    assert await world.supervisor._demand.wanted() == frozenset()


async def test_run_opens_a_watched_stream_without_waiting_for_the_poll_and_stops_when_cancelled(
    worlds: Worlds,
) -> None:
    world = await worlds()
    world.supervisor._poll_interval = 30.0  # only a wake-up can be quick
    running = asyncio.create_task(world.supervisor.run())
    await asyncio.sleep(0.01)
    world.interest.watch(CANDLES)
    async with asyncio.timeout(2):
        while world.binance.wanted != {CANDLES}:
            await asyncio.sleep(0.005)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert not world.binance.running
