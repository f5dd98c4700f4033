"""Publishing on the event bus in order, without making the stream readers wait."""

from __future__ import annotations

import asyncio
import logging

from domain.ports import BusMessage, EventBus

log = logging.getLogger("live.publisher")


class OrderedPublisher:
    """Queues messages from synchronous callers (stream sinks) and publishes them one at a
    time, in the order queued, so a bus that keeps one publisher's order (Redis pub/sub over
    one connection at a time) delivers them in that order. A message the bus refuses is
    logged and dropped: the bus is down, and nothing can be delivered through it then."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[BusMessage] = asyncio.Queue()
        self.published = 0
        self.failed = 0

    def put(self, message: BusMessage) -> None:
        """Queue ``message`` (returns at once)."""
        self._queue.put_nowait(message)

    @property
    def pending(self) -> int:
        """Messages queued and not published yet."""
        return self._queue.qsize()

    async def run(self) -> None:
        """Publish queued messages until cancelled."""
        while True:
            message = await self._queue.get()
            try:
                await self._bus.publish(message)
                self.published += 1
            except Exception as error:  # noqa: BLE001 - whichever the bus adapter's errors are
                self.failed += 1
                if self.failed == 1 or self.failed % 1000 == 0:
                    log.error("live event not published: %s: %s", type(error).__name__, error)
            finally:
                self._queue.task_done()

    async def flush(self) -> None:
        """Wait until everything queued so far is published (needs ``run`` running)."""
        await self._queue.join()
