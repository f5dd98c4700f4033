"""The shutdown timeline and the coordinator the edges observe (entrypoints/shutdown.py)."""

from __future__ import annotations

import asyncio

import pytest

from entrypoints.shutdown import ShutdownCoordinator, ShutdownTimeline


@pytest.mark.parametrize(
    ("grace", "expected"),
    [
        (10.0, (9.5, 10.0, 10.25, 10.5)),
        (2.0, (1.5, 2.0, 2.25, 2.5)),
        (1.0, (0.5, 1.0, 1.25, 1.5)),
        (0.5, (0.25, 0.5, 0.75, 1.0)),  # under a second: the cut at half the grace
        (0.0, (0.0, 0.0, 0.25, 0.5)),
    ],
)
def test_the_timeline_keeps_within_the_grace_plus_one_second(
    grace: float, expected: tuple[float, float, float, float]
) -> None:
    timeline = ShutdownTimeline(grace)

    steps = (timeline.cut_after, timeline.servers_by, timeline.resources_by, timeline.hard_stop_after)

    assert steps == expected
    assert timeline.hard_stop_after < grace + 1  # the contract's bound, with room for the exit itself
    # A supervisor kills a stuck worker only after the worker's own exit was due, still in time.
    assert timeline.hard_stop_after < timeline.kill_after == grace + 0.9 < grace + 1


async def test_before_the_cut_a_cancellation_is_not_the_shutdowns() -> None:
    shutdown = ShutdownCoordinator(10)

    shutdown.begin()

    assert shutdown.draining.is_set()
    assert not shutdown.is_cut
    assert shutdown.absorb_cut() is False


async def test_the_cut_cancels_entered_calls_which_may_still_answer() -> None:
    shutdown = ShutdownCoordinator(10)
    entered = asyncio.Event()
    outcome: list[str] = []

    async def call() -> None:
        task = shutdown.enter()
        entered.set()
        try:
            await asyncio.Event().wait()  # a call that would never finish
        except asyncio.CancelledError:
            assert shutdown.absorb_cut()
            assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
            await asyncio.sleep(0)  # still able to send its answer
            outcome.append("answered unavailable")
        finally:
            shutdown.leave(task)

    running = asyncio.create_task(call())
    await entered.wait()
    cancelled_by_callback: list[bool] = []
    shutdown.on_cut(lambda: cancelled_by_callback.append(True) or 2)

    shutdown.cut()
    shutdown.cut()  # once only
    await running

    assert outcome == ["answered unavailable"]
    assert cancelled_by_callback == [True]
    assert not running.cancelled()


async def test_a_call_that_left_is_not_cancelled_by_the_cut() -> None:
    shutdown = ShutdownCoordinator(10)

    async def call() -> None:
        shutdown.leave(shutdown.enter())

    await asyncio.create_task(call())
    waiting = asyncio.create_task(asyncio.Event().wait())
    await asyncio.sleep(0)
    shutdown.cut()
    await asyncio.sleep(0)

    assert not waiting.done()
    waiting.cancel()


async def test_the_cut_comes_by_itself_at_its_time_on_the_timeline() -> None:
    shutdown = ShutdownCoordinator(0)  # grace 0: the cut is due at once
    came = asyncio.Event()
    shutdown.on_cut(lambda: came.set() or 0)

    shutdown.begin()
    assert not shutdown.is_cut  # scheduled on the loop, not run inline
    await asyncio.wait_for(came.wait(), 5)

    assert shutdown.is_cut


async def test_seconds_until_counts_from_the_beginning() -> None:
    shutdown = ShutdownCoordinator(10)
    assert shutdown.seconds_until(9.5) == 9.5  # not begun: the whole span

    shutdown.begin()

    assert 9.4 < shutdown.seconds_until(9.5) <= 9.5
    assert shutdown.seconds_until(-1) == 0.0
