"""Publishing on the event bus in order, without making the stream readers wait."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable

from domain.live import CandleEvent, TickerEvent
from domain.ports import BusMessage, EventBus

log = logging.getLogger("live.publisher")

#: Messages (distinct keys) waiting for the bus before the oldest are dropped.
DEFAULT_PENDING_LIMIT = 10_000


def conflation_key(message: BusMessage) -> Hashable:
    """What a newer message replaces while it waits: the state of one candle (a closed candle
    replaces its in-progress states), the ticker of one market, the status of one provider."""
    if isinstance(message, CandleEvent):
        return ("candle", message.key, message.candle.timestamp)
    if isinstance(message, TickerEvent):
        return ("ticker", message.key)
    return ("status", message.provider)


class OrderedPublisher:
    """Queues messages from synchronous callers (stream sinks) and publishes them one at a
    time, in the order queued, so a bus that keeps one publisher's order (Redis pub/sub over
    one connection at a time) delivers them in that order. A message the bus refuses is
    logged and dropped: the bus is down, and nothing can be delivered through it then.

    The queue is bounded, so a slow or cut-off bus (Redis) cannot make it grow without end:
    while a message waits, a newer one under the same ``conflation_key`` takes its place (the
    bus then carries the latest state, never a backlog of superseded ones), and past
    ``limit`` waiting keys the oldest is dropped (counted in ``dropped``, logged).
    """

    def __init__(self, bus: EventBus, limit: int = DEFAULT_PENDING_LIMIT) -> None:
        self._bus = bus
        self._limit = limit
        self._pending: dict[Hashable, BusMessage] = {}
        self._ready = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self.published = 0
        self.failed = 0
        self.dropped = 0

    def put(self, message: BusMessage) -> None:
        """Queue ``message`` (returns at once)."""
        key = conflation_key(message)
        pending = self._pending
        if key not in pending and len(pending) >= self._limit:
            del pending[next(iter(pending))]
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error("live events dropped before publishing: the bus is too slow (%d so far)", self.dropped)
        pending[key] = message
        self._drained.clear()
        self._ready.set()

    @property
    def pending(self) -> int:
        """Messages queued and not published yet."""
        return len(self._pending)

    async def run(self) -> None:
        """Publish queued messages until cancelled."""
        while True:
            if not self._pending:
                self._ready.clear()
                self._drained.set()
                await self._ready.wait()
                continue
            key = next(iter(self._pending))
            message = self._pending.pop(key)
            try:
                await self._bus.publish(message)
                self.published += 1
            except Exception as error:  # noqa: BLE001 - whichever the bus adapter's errors are
                self.failed += 1
                if self.failed == 1 or self.failed % 1000 == 0:
                    log.error("live event not published: %s: %s", type(error).__name__, error)

    async def flush(self) -> None:
        """Wait until everything queued so far is published (needs ``run`` running)."""
        await self._drained.wait()  # cleared by every put, set once run() has published it all
