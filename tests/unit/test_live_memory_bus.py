"""The in-process event bus beyond the EventBus contract: a closed listener is forgotten
(memory stays bounded), and stopping the bus ends every listener."""

from __future__ import annotations

import asyncio

import pytest

from adapters.live.memory_bus import MemoryEventBus
from domain.live import StreamStatus

STATUS = StreamStatus("binance", "connected", 1, None, 0)


async def test_a_closed_listener_is_forgotten() -> None:
    bus = MemoryEventBus()
    first, second = bus.listen(), bus.listen()
    assert bus.listeners == 2
    await first.aclose()
    await first.aclose()  # idempotent
    assert bus.listeners == 1
    await bus.publish(STATUS)
    assert await anext(second) == STATUS


async def test_stopping_the_bus_ends_every_listener() -> None:
    bus = MemoryEventBus()
    listener = bus.listen()
    pending = asyncio.ensure_future(anext(listener))
    await asyncio.sleep(0)
    await bus.stop()
    assert bus.listeners == 0
    with pytest.raises(StopAsyncIteration):
        async with asyncio.timeout(2):
            await pending
