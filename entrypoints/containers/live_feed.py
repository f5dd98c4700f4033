"""The live fan-out's lifecycle: the feed reads the event bus in the background while the
service serves, and every subscriber's inbox ends when it stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import structlog

from application.live.fanout import LiveFanout

log = structlog.get_logger("live")


def _ended(running: asyncio.Task[None]) -> None:
    if not running.cancelled() and running.exception() is not None:
        error = running.exception()
        log.error("live fan-out stopped", error=f"{type(error).__name__}: {error}")


async def fanning_out(feed: LiveFanout) -> AsyncIterator[LiveFanout]:
    """Run ``feed`` (its bus listener) until shutdown, then end every inbox
    (``FeedClosed``); a Resource for the container."""
    running = asyncio.get_running_loop().create_task(feed.run(), name="live fan-out")
    running.add_done_callback(_ended)
    try:
        yield feed
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        feed.close("the service is stopping")
