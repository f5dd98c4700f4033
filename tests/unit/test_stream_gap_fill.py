"""No gaps, no repeats: what the stream supervisor publishes for a candles stream across
connects, disconnects and REST fills (fake streams, fake REST history, fake clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domain.errors import ProviderUnavailable
from tests.fake_streams import MINUTE, T0_MS, candle_event
from tests.unit.live_world import CANDLES, World, Worlds


def ts(index: int) -> int:
    return T0_MS + index * MINUTE


@pytest.fixture
async def worlds() -> AsyncIterator[Worlds]:
    made = Worlds()
    yield made
    await made.stop()


async def opened(worlds: Worlds) -> World:
    """BTCUSDT 1m watched and live on binance, half-way through candle 5; the exchange has
    candles 0..5 (5 in progress); the first fill has been published."""
    world = await worlds()
    world.at(5)
    world.history(*[(i, 100.0 + i) for i in range(6)])
    world.interest.watch(CANDLES)
    await world.tick()
    world.binance.go_live()
    await world.settle()
    return world


async def test_a_new_stream_is_first_filled_with_the_recent_candles_then_the_one_in_progress(
    worlds: Worlds,
) -> None:
    world = await opened(worlds)
    assert world.bus.candles() == [
        (ts(0), 100.0, True, "binance"),
        (ts(1), 101.0, True, "binance"),
        (ts(2), 102.0, True, "binance"),
        (ts(3), 103.0, True, "binance"),
        (ts(4), 104.0, True, "binance"),
        (ts(5), 105.0, False, "binance"),
    ]
    assert world.rest_binance.calls == [("BTCUSDT", "1m", 100)]
    assert world.rest_kraken.calls == []


async def test_live_events_follow_the_fill(worlds: Worlds) -> None:
    world = await opened(worlds)
    await world.forget()
    world.binance.send(candle_event(5, False, close=105.5), candle_event(5, True, close=105.7))
    world.binance.send(candle_event(6, False, close=106.1))
    await world.settle()
    # Queued together, the in-progress state of candle 5 is replaced by its close before the
    # bus takes it (the publisher keeps the latest state per candle while it waits).
    assert world.bus.candles() == [
        (ts(5), 105.7, True, "binance"),
        (ts(6), 106.1, False, "binance"),
    ]


async def test_a_disconnect_across_a_candle_close_delivers_that_closed_candle_once_in_order(
    worlds: Worlds,
) -> None:
    world = await opened(worlds)
    world.binance.send(candle_event(5, False, close=105.5))
    world.binance.drop()  # candle 5 closes, and 6, while the connection is down
    world.at(7, 10)
    world.history(*[(i, 100.0 + i) for i in range(5)], (5, 205.0), (6, 206.0), (7, 207.0))
    await world.forget()
    world.binance.go_live()
    await world.settle()
    world.binance.send(candle_event(7, False, close=207.5))
    await world.settle()
    assert world.bus.candles() == [
        (ts(5), 205.0, True, "binance"),  # final values, from REST
        (ts(6), 206.0, True, "binance"),
        (ts(7), 207.0, False, "binance"),
        (ts(7), 207.5, False, "binance"),
    ]
    assert world.rest_binance.calls[-1] == ("BTCUSDT", "1m", 4)  # 5..7 missed, and one spare


async def test_events_during_the_fill_are_held_and_released_after_it_newest_state_per_candle(
    worlds: Worlds,
) -> None:
    world = await opened(worlds)
    world.binance.drop()
    world.at(7, 10)
    world.history(*[(i, 100.0 + i) for i in range(5)], (5, 205.0), (6, 206.0), (7, 207.0))
    world.rest_binance.delay = 0.05
    await world.forget()
    world.binance.go_live()
    world.binance.send(
        candle_event(6, True, close=999.0),  # already closed by the fill: dropped
        candle_event(7, False, close=207.2),
        candle_event(7, False, close=207.4),  # replaces the one before while held
        candle_event(7, True, close=307.0),
        candle_event(7, False, close=1.0),  # after its close: dropped
        candle_event(8, False, close=308.0),
    )
    assert world.bus.candles() == []  # nothing before the fill
    await world.settle()
    assert world.bus.candles() == [
        (ts(5), 205.0, True, "binance"),
        (ts(6), 206.0, True, "binance"),
        (ts(7), 307.0, True, "binance"),  # the fill's in-progress state replaced by the held close
        (ts(8), 308.0, False, "binance"),
    ]


async def test_an_outage_gap_of_the_exchange_stays_a_gap(worlds: Worlds) -> None:
    world = await opened(worlds)
    world.binance.drop()
    world.at(9, 10)
    # The exchange itself has nothing for candles 6 and 7 (no trades, or its own outage).
    world.history(*[(i, 100.0 + i) for i in range(5)], (5, 205.0), (8, 208.0), (9, 209.0))
    await world.forget()
    world.binance.go_live()
    await world.settle()
    assert world.bus.candles() == [
        (ts(5), 205.0, True, "binance"),
        (ts(8), 208.0, True, "binance"),
        (ts(9), 209.0, False, "binance"),
    ]


async def test_a_closed_candle_is_published_exactly_once_and_nothing_older_after_it(worlds: Worlds) -> None:
    world = await opened(worlds)
    await world.forget()
    world.binance.send(
        candle_event(5, True, close=105.0),
        candle_event(5, True, close=105.0),  # the same close again (a replayed frame)
        candle_event(5, False, close=105.9),  # a late update of a closed candle
        candle_event(4, True, close=104.0),  # older than the newest closed candle
        candle_event(6, False, close=106.0),
        candle_event(5, False, close=105.1),  # behind the newest candle
    )
    await world.settle()
    assert world.bus.candles() == [(ts(5), 105.0, True, "binance"), (ts(6), 106.0, False, "binance")]
    closes = [c for c in world.bus.candles() if c[2]]
    assert len(closes) == len({c[0] for c in closes})


async def test_a_reconnect_with_nothing_missed_repeats_nothing(worlds: Worlds) -> None:
    world = await opened(worlds)
    world.binance.drop()
    await world.forget()
    world.binance.go_live()
    await world.settle()
    assert world.bus.candles() == [(ts(5), 105.0, False, "binance")]  # the candle in progress, as REST has it


async def test_when_no_rest_provider_answers_the_buffer_is_released_and_the_gap_not_invented(
    worlds: Worlds,
) -> None:
    world = await opened(worlds)
    world.binance.drop()
    world.at(8, 10)
    world.rest_binance.error = ProviderUnavailable("binance", "down for the test")
    world.rest_kraken.error = ProviderUnavailable("kraken", "down for the test")
    await world.forget()
    world.binance.go_live()
    world.binance.send(candle_event(8, False, close=308.0))
    await world.settle()
    assert world.bus.candles() == [(ts(8), 308.0, False, "binance")]
    assert len(world.rest_binance.calls) == 1 + 3  # the first fill, then 3 attempts


async def test_the_fill_asks_the_next_rest_provider_when_the_streams_own_exchange_fails(
    worlds: Worlds,
) -> None:
    world = await opened(worlds)
    world.binance.drop()
    world.at(6, 10)
    world.history(*[(i, 100.0 + i) for i in range(5)], (5, 205.0), (6, 206.0))
    world.rest_binance.error = ProviderUnavailable("binance", "down for the test")
    await world.forget()
    world.binance.go_live()
    await world.settle()
    assert world.bus.candles() == [(ts(5), 205.0, True, "kraken"), (ts(6), 206.0, False, "kraken")]
