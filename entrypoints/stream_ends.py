"""Ending a server's live streams when the process starts draining (``entrypoints.shutdown``).

The WebSocket, SSE and gRPC streams of live data last as long as their clients want; a drain
must end them at once, each in its own way (a WebSocket close 1001, an SSE ``end`` event, a
gRPC status OK). Each stream registers how it ends; one task per server waits for the drain
and ends them all, so an idle stream costs no task of its own for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

log = structlog.get_logger("live")

End = Callable[[], object]


class StreamEnds:
    """The streams of one server that end when ``draining`` is set."""

    def __init__(self, draining: asyncio.Event) -> None:
        self._draining = draining
        self._ends: set[End] = set()
        self._watch: asyncio.Task[None] | None = None

    @property
    def draining(self) -> bool:
        """Whether the drain has begun (new streams are refused then)."""
        return self._draining.is_set()

    def __len__(self) -> int:
        return len(self._ends)

    def add(self, end: End) -> None:
        """Call ``end`` (once, without arguments, not awaited) when the drain begins; at once
        (soon) if it has begun already. Pair with :meth:`discard` when the stream ends first."""
        loop = asyncio.get_running_loop()
        if self._draining.is_set():
            loop.call_soon(end)
            return
        self._ends.add(end)
        if self._watch is None or self._watch.done():
            self._watch = loop.create_task(self._end_at_drain())

    def discard(self, end: End) -> None:
        """The stream ended by itself: nothing to do for it at the drain."""
        self._ends.discard(end)

    async def _end_at_drain(self) -> None:
        await self._draining.wait()
        ends, self._ends = self._ends, set()
        if ends:
            log.info("ending live streams: draining", streams=len(ends))
        for end in ends:
            try:
                end()
            except Exception:  # noqa: BLE001 - one stream's failure must not keep the others open
                log.exception("a live stream did not end cleanly")

    def close(self) -> None:
        """Stop waiting for the drain (the server is gone without one)."""
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
