"""The in-process event bus: every message to every local listener."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from domain.ports import BusMessage


class MemoryEventBus:
    """Implements ``EventBus`` in one process: ``publish`` hands each message to every
    listener's own queue (nothing awaited per listener), so listeners never slow the
    publisher or each other. Listeners are the process's own consumers (the fan-out, the
    supervisor), each expected to keep up."""

    def __init__(self) -> None:
        self._listeners: list[Listening] = []

    async def publish(self, message: BusMessage) -> None:
        """Send ``message`` to every listener."""
        self.deliver(message)

    def deliver(self, message: BusMessage) -> None:
        """Hand ``message`` to every listener at once (also what a Redis subscription
        calls for each message it receives)."""
        for listener in self._listeners:
            listener.offer(message)

    def listen(self) -> Listening:
        """Every message published from now on (registered before this returns)."""
        listener = Listening(self._listeners.remove)
        self._listeners.append(listener)
        return listener

    @property
    def listeners(self) -> int:
        """Listeners not closed yet."""
        return len(self._listeners)

    async def start(self) -> None:
        """Nothing to connect in process (the same lifecycle as the Redis bus)."""

    async def stop(self) -> None:
        """End every listener's iteration (the service is stopping)."""
        for listener in list(self._listeners):
            await listener.aclose()


class Listening(AsyncIterator[BusMessage]):
    """One listener: an async iterator over the messages since it was made, until closed."""

    _CLOSED = object()

    def __init__(self, unregister: Callable[[Listening], None]) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._unregister = unregister
        self._closed = False

    def offer(self, message: BusMessage) -> None:
        """Queue ``message`` for this listener."""
        self._queue.put_nowait(message)

    def __aiter__(self) -> Listening:
        return self

    async def __anext__(self) -> BusMessage:
        if self._closed:
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is self._CLOSED:
            raise StopAsyncIteration
        return item  # type: ignore[return-value]

    async def aclose(self) -> None:
        """Stop listening (idempotent); a pending ``__anext__`` ends the iteration."""
        if self._closed:
            return
        self._closed = True
        self._unregister(self)
        self._queue.put_nowait(self._CLOSED)
