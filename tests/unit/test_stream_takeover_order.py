"""A replica that takes the lease over after hearing only in-progress events of a stream (its
subscription began after the old holder's first fill, e.g. a 1h stream within its first candle)
republishes no closed candle older than the newest one published: no second ``closed: true``,
nothing out of order (review of issue 14)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from application.live.state import LiveState
from tests.fake_streams import MINUTE, T0_MS, FakeLease, candle_event
from tests.unit.live_world import CANDLES, Worlds


def ts(index: int) -> int:
    return T0_MS + index * MINUTE


@pytest.fixture
async def worlds() -> AsyncIterator[Worlds]:
    made = Worlds()
    yield made
    await made.stop()


async def test_a_takeover_after_hearing_only_in_progress_events_repeats_no_closed_candle(
    worlds: Worlds,
) -> None:
    lease = FakeLease(held=False)
    world = await worlds(lease)  # replica B, not holding
    world.at(5)
    world.history(*[(i, 100.0 + i) for i in range(6)])
    # What B heard on the bus from the old holder A (whose first fill, with candles 0..4
    # closed, went out before B subscribed): candle 5 in progress.
    world.supervisor.continuity.heard(candle_event(5, False, close=105.0))
    # A fan-out replica whose client joined after A's first fill has the same trail.
    state = LiveState()
    state.track(CANDLES)
    assert state.apply(candle_event(5, False, close=105.0))
    # A dies; B takes the lease over and its binance stream goes live.
    world.interest.watch(CANDLES)
    lease.held = True
    world.clock.advance(1)
    await world.tick()
    world.binance.go_live()
    await world.settle()
    # the fan-out forwards whatever changes its trail: candle 4 closed after candle 5
    forwarded = [(e.candle.timestamp, e.closed) for e in world.bus.published
                 if hasattr(e, "candle") and state.apply(e)]
    assert forwarded == [], forwarded
    published = world.bus.candles()
    assert all(t >= ts(5) for t, _, _, _ in published), published
