"""The pacing gate of stream connections: at most N uses per window, waited for."""

from __future__ import annotations

import asyncio
import time

from adapters.streams.rate_slots import RateSlots


async def test_the_limit_passes_at_once_and_the_next_use_waits_a_window() -> None:
    slots = RateSlots(3, 0.2)
    started = time.monotonic()
    for _ in range(3):
        await slots.acquire()
    assert time.monotonic() - started < 0.05
    assert slots.available == 0
    await slots.acquire()
    assert 0.18 <= time.monotonic() - started < 0.4
    slots.close()


async def test_slots_come_back_one_window_after_each_use() -> None:
    slots = RateSlots(2, 0.15)
    await slots.acquire()
    await asyncio.sleep(0.1)
    await slots.acquire()
    started = time.monotonic()
    await slots.acquire()  # the first slot returns 0.05 s from here, not 0.15
    assert time.monotonic() - started < 0.12
    slots.close()
