"""Failover to the next stream provider and back, without a gap, as the supervisor runs it
(fake streams, fake REST history, fake clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fake_streams import MINUTE, T0_MS, candle_event, ticker_event
from tests.unit.live_world import CANDLES, TICKER, World, Worlds


def ts(index: int) -> int:
    return T0_MS + index * MINUTE


@pytest.fixture
async def worlds() -> AsyncIterator[Worlds]:
    made = Worlds()
    yield made
    await made.stop()


async def binance_down(worlds: Worlds) -> World:
    """Candles and ticker of BTCUSDT watched; binance served them, then went down in candle 5."""
    world = await worlds()
    world.at(5)
    world.history(*[(i, 100.0 + i) for i in range(6)])
    world.interest.watch(CANDLES)
    world.interest.watch(TICKER)
    await world.tick()
    world.binance.go_live()
    await world.settle()
    world.binance.drop(failures=3, state="down")
    await world.tick()
    return world


async def test_while_the_first_provider_is_up_the_fallback_holds_nothing(worlds: Worlds) -> None:
    world = await worlds()
    world.interest.watch(CANDLES)
    await world.tick()
    assert world.binance.wanted == {CANDLES}
    assert world.kraken.wanted == frozenset()


async def test_a_down_provider_fails_over_to_the_next_while_it_keeps_trying(worlds: Worlds) -> None:
    world = await binance_down(worlds)
    assert world.kraken.wanted == {CANDLES, TICKER}
    assert world.binance.wanted == {CANDLES, TICKER}


async def test_the_fallback_fills_from_where_the_first_provider_stopped(worlds: Worlds) -> None:
    world = await binance_down(worlds)
    world.at(7, 10)
    world.history(*[(i, 100.0 + i) for i in range(5)], (5, 205.0), (6, 206.0), (7, 207.0))
    await world.forget()
    world.kraken.go_live()
    await world.settle()
    world.kraken.send(candle_event(7, False, "kraken", close=207.3), ticker_event(70_000.0, "kraken"))
    world.binance.send(candle_event(7, False, "binance", close=1.0))  # not serving: dropped
    await world.settle()
    assert world.bus.candles() == [
        (ts(5), 205.0, True, "kraken"),  # the REST twin of the stream's exchange first
        (ts(6), 206.0, True, "kraken"),
        (ts(7), 207.0, False, "kraken"),
        (ts(7), 207.3, False, "kraken"),
    ]
    assert world.rest_kraken.calls == [("BTCUSDT", "1m", 4)]
    assert [m.last for m in world.bus.published if hasattr(m, "last")] == [70_000.0]


async def test_the_first_provider_takes_back_over_fills_and_only_then_the_fallback_lets_go(
    worlds: Worlds,
) -> None:
    world = await binance_down(worlds)
    world.at(6, 10)
    world.history(*[(i, 100.0 + i) for i in range(5)], (5, 205.0), (6, 206.0))
    world.kraken.go_live()
    await world.settle()
    await world.tick()
    world.kraken.send(candle_event(6, True, "kraken", close=206.0))
    await world.forget()

    world.at(7, 20)
    world.history(*[(i, 100.0 + i) for i in range(5)], (5, 205.0), (6, 206.0), (7, 207.0))
    world.rest_binance.delay = 0.05
    world.binance.go_live()  # binance is back
    await world.tick()
    assert world.kraken.wanted == {CANDLES}  # still held while binance catches up
    world.kraken.send(candle_event(7, False, "kraken", close=1.0))  # binance serves now: dropped
    world.binance.send(candle_event(7, False, "binance", close=207.6))  # held until the fill is done
    await world.settle()
    await world.tick()
    assert world.kraken.wanted == frozenset()
    assert world.binance.wanted == {CANDLES, TICKER}
    # the fill's in-progress candle 7, replaced while it waited by the held live state
    assert world.bus.candles() == [(ts(7), 207.6, False, "binance")]


async def test_the_fallback_never_takes_over_from_a_provider_that_is_only_reconnecting(
    worlds: Worlds,
) -> None:
    world = await worlds()
    world.at(5)
    world.history(*[(i, 100.0 + i) for i in range(6)])
    world.interest.watch(CANDLES)
    await world.tick()
    world.binance.go_live()
    await world.settle()
    world.binance.drop(failures=1, state="reconnecting")
    await world.tick()
    assert world.kraken.wanted == frozenset()


async def test_a_ticker_moves_at_once_it_needs_no_fill(worlds: Worlds) -> None:
    world = await binance_down(worlds)
    world.kraken.go_live(frozenset({TICKER}))
    world.kraken.send(ticker_event(71_000.0, "kraken"))
    await world.settle()
    world.binance.go_live(frozenset({TICKER}))
    await world.tick()
    assert TICKER not in world.kraken.wanted  # let go at once, nothing to catch up
    world.kraken.send(ticker_event(1.0, "kraken"))  # dropped: binance serves it again
    world.binance.send(ticker_event(72_000.0, "binance"))
    await world.settle()
    tickers = [(m.last, m.source) for m in world.bus.published if hasattr(m, "last")]
    assert tickers == [(71_000.0, "kraken"), (72_000.0, "binance")]


async def test_when_every_provider_is_down_all_try_and_the_first_back_serves_until_a_preferred_one(
    worlds: Worlds,
) -> None:
    world = await worlds()
    world.at(5)
    world.history(*[(i, 100.0 + i) for i in range(6)])
    world.interest.watch(CANDLES)
    world.binance.state = world.kraken.state = "down"
    await world.tick()
    assert world.binance.wanted == {CANDLES} and world.kraken.wanted == {CANDLES}
    world.binance.go_live()
    await world.settle()
    world.kraken.go_live()  # later, and behind binance in the order: it does not take over
    await world.settle()
    await world.forget()
    world.kraken.send(candle_event(5, False, "kraken", close=1.0))
    world.binance.send(candle_event(5, False, "binance", close=105.2))
    await world.settle()
    await world.tick()
    assert world.bus.candles() == [(ts(5), 105.2, False, "binance")]
    assert world.kraken.wanted == frozenset()
