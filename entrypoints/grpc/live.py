"""Live data over gRPC, from the LiveFeed: StreamCandles, and StreamPrices pushed on change.

A stream ends with status OK when the server drains (the client reconnects elsewhere) or the
feed closes; a client the feed dropped for falling behind gets RESOURCE_EXHAUSTED. The drain
interrupts a stream only while it waits for its next update, never while grpc writes a
message, so the stream always ends cleanly between two messages.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncGenerator, Awaitable
from typing import TypeVar

from application.get_ohlcv import DEFAULT_INTERVAL
from application.live.feed import FeedClosed, Inbox, LiveFeed
from application.live.updates import CandleUpdate, LiveUpdate, PriceUpdate
from domain.quote import CombinedQuote
from domain.symbol import SymbolParser
from entrypoints.grpc import mapping
from entrypoints.stream_ends import StreamEnds
from protos.cryptodata.v1 import market_data_pb2 as pb

T = TypeVar("T")


class Drained(Exception):
    """The server started draining: the stream ends (with OK)."""


class _Waits:
    """One stream's waits for its next update; the drain ends them (only while waiting)."""

    def __init__(self, ends: StreamEnds) -> None:
        self._ends = ends
        self._task = asyncio.current_task()
        self._waiting = False
        self._ended = ends.draining
        ends.add(self._end)

    def _end(self) -> None:
        self._ended = True
        if self._waiting and self._task is not None:
            self._task.cancel()

    def close(self) -> None:
        """The stream ended: nothing to do for it at the drain."""
        self._ends.discard(self._end)

    async def next(self, inbox: Inbox, deadline: float | None = None) -> LiveUpdate | None:
        """The next update, or None when the loop time ``deadline`` came first. Raises
        ``Drained`` once the drain began (``SlowSubscriber`` and ``FeedClosed`` as the inbox)."""
        try:
            if deadline is None:
                return await self.during(inbox.get())
            async with asyncio.timeout_at(deadline):
                return await self.during(inbox.get())
        except TimeoutError:
            return None

    async def during(self, work: Awaitable[T]) -> T:
        """``work``'s result; the drain interrupts it (``Drained``), e.g. a snapshot that
        waits on a slow upstream must not hold the shutdown."""
        if self._ended:
            if inspect.iscoroutine(work):
                work.close()  # never awaited: no "coroutine was never awaited" warning
            raise Drained
        self._waiting = True
        try:
            return await work
        except asyncio.CancelledError:
            task = self._task
            if self._ended and task is not None and task.cancelling() == 1:  # only the drain's
                task.uncancel()
                raise Drained from None
            raise
        finally:
            self._waiting = False


class LiveStreams:
    """The live streams of the MarketData servicer (only when live streams are on)."""

    def __init__(self, feed: LiveFeed, ends: StreamEnds, interval: float, symbols: SymbolParser) -> None:
        self._feed = feed
        self._ends = ends
        self._interval = interval
        self._symbols = symbols

    @property
    def draining(self) -> bool:
        """Whether the server drains (a stream asked for now ends at once, OK)."""
        return self._ends.draining

    async def candles(self, symbol: str, interval: str) -> AsyncGenerator[bytes, None]:
        """The snapshot, then every update, each encoded once for every subscriber."""
        inbox = self._feed.inbox()
        waits = _Waits(self._ends)
        try:
            watch = await waits.during(self._feed.watch_candles(inbox, symbol, interval or DEFAULT_INTERVAL))
            snapshot = watch.snapshot
            assert isinstance(snapshot, CandleUpdate)
            yield _encoded(snapshot)
            while True:
                update = await waits.next(inbox)
                if isinstance(update, CandleUpdate):
                    yield _encoded(update)
        except (Drained, FeedClosed):
            return
        finally:
            waits.close()
            inbox.close()

    async def prices(self, symbols: str | None) -> AsyncGenerator[pb.GetPricesResponse, None]:
        """The board at once, then again on every change of a watched asset's quote, and at
        least every GRPC_STREAM_INTERVAL seconds (the same board again when nothing changed)."""
        inbox = self._feed.inbox()
        waits = _Waits(self._ends)
        loop = asyncio.get_running_loop()
        try:
            watch = await waits.during(self._feed.watch_prices(inbox, symbols))
            requested = self._symbols.parse_bases(symbols)
            wanted = frozenset(requested)
            snapshot = watch.snapshot
            assert isinstance(snapshot, PriceUpdate)
            board: dict[str, CombinedQuote] = {q.symbol: q for q in snapshot.quotes if q.symbol in wanted}
            yield mapping.live_board(_in_order(board, requested), requested)
            due = loop.time() + self._interval
            while True:
                update = await waits.next(inbox, due)
                if update is not None:
                    changed = [q for q in update.quotes if q.symbol in wanted] if isinstance(update, PriceUpdate) else []
                    if not changed:
                        continue
                    board.update((q.symbol, q) for q in changed)
                yield mapping.live_board(_in_order(board, requested), requested)
                due = loop.time() + self._interval
        except (Drained, FeedClosed):
            return
        finally:
            waits.close()
            inbox.close()


def _in_order(board: dict[str, CombinedQuote], requested: tuple[str, ...]) -> tuple[CombinedQuote, ...]:
    """The board's quotes in the order the client asked for them (as GetPrices answers)."""
    return tuple(board[base] for base in requested if base in board)


def _encoded(update: CandleUpdate) -> bytes:
    """The update as a serialized CandleUpdate message, made once and kept on the update (a
    snapshot, made for one subscriber, is not kept)."""
    if update.type == "snapshot":
        return mapping.candle_update(update).SerializeToString()
    data: bytes | None = update.rendered.get("grpc")
    if data is None:
        data = update.rendered["grpc"] = mapping.candle_update(update).SerializeToString()
    return data

