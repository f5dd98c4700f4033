"""The closed candles the live streams deliver, on their way into the candle store.

The fan-out hands each one over without waiting (``offer``); one task (``run``, started and
stopped with the live feed) writes them in batches, so the database never slows the bus.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from domain.candle import Candle
from domain.interval import Interval
from domain.live import CandleEvent
from domain.symbol import Symbol

log = logging.getLogger("live.closed_candles")

#: Closed candles waiting for the store before the oldest are dropped (they are fetched again
#: when a range needs them: the store only lacks them).
DEFAULT_PENDING_LIMIT = 10_000
#: Candles written per round.
DEFAULT_BATCH = 500
#: Seconds a round waits after the first candle arrives, so the candles of one close (every
#: market watched closes at once) go in one round, and our clock has passed their close.
DEFAULT_LINGER = 1.0


class ClosedCandleArchive(Protocol):
    """Where closed candles are kept (``CandleArchive``)."""

    async def keep_closed(
        self, provider: str, symbol: Symbol, interval: Interval, candles: Sequence[Candle]
    ) -> None:
        """Store ``candles`` as ``provider``'s, each covering its own interval; never raises."""
        ...


class ClosedCandleQueue:
    """A bounded queue of closed candle events drained into ``archive`` by ``run``.

    Every replica gets every bus event and writes what it gets: upserts are idempotent, so
    replicas writing the same candle cost a little work, never a wrong row. A candle delivered
    again while waiting replaces the waiting one; past ``limit`` waiting candles the oldest is
    dropped (counted in ``dropped``, logged).
    """

    def __init__(
        self,
        archive: ClosedCandleArchive,
        limit: int = DEFAULT_PENDING_LIMIT,
        batch: int = DEFAULT_BATCH,
        linger: float = DEFAULT_LINGER,
    ) -> None:
        self._archive = archive
        self._limit = limit
        self._batch = batch
        self._linger = linger
        self._pending: dict[tuple[str, Symbol, Interval, int], CandleEvent] = {}
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.dropped = 0
        self.written = 0

    def offer(self, event: CandleEvent) -> None:
        """Queue a closed candle event for the store (returns at once; others are ignored)."""
        if not event.closed:
            return
        key = (event.source, event.symbol, event.interval, event.candle.timestamp)
        pending = self._pending
        if key not in pending and len(pending) >= self._limit:
            del pending[next(iter(pending))]
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning(
                    "closed candles not stored: the candle store is too slow (%d so far)", self.dropped
                )
        pending[key] = event
        self._idle.clear()
        self._ready.set()

    @property
    def pending(self) -> int:
        """Closed candles waiting for the store."""
        return len(self._pending)

    async def run(self) -> None:
        """Write waiting candles in batches until cancelled."""
        while True:
            if not self._pending:
                self._ready.clear()
                self._idle.set()
                await self._ready.wait()
                if self._linger > 0:
                    await asyncio.sleep(self._linger)
                continue
            taken = [self._pending.pop(key) for key in list(self._pending)[: self._batch]]
            await self._write(taken)

    async def drained(self) -> None:
        """Wait until everything queued so far is written (needs ``run`` running)."""
        await self._idle.wait()

    async def _write(self, events: list[CandleEvent]) -> None:
        groups: dict[tuple[str, Symbol, Interval], list[Candle]] = {}
        for event in events:
            groups.setdefault((event.source, event.symbol, event.interval), []).append(event.candle)
        for (provider, symbol, interval), candles in groups.items():
            try:
                await self._archive.keep_closed(provider, symbol, interval, candles)
            except Exception as error:  # noqa: BLE001 - the next candles still go in
                log.warning("closed candles of %s %s not stored: %s: %s",
                            symbol.pair, interval.name, type(error).__name__, error)  # fmt: skip
                continue
            self.written += len(candles)
