"""The live fan-out's lifecycle: the feed reads the event bus in the background while the
service serves, and every subscriber's inbox ends when it stops."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable

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



async def live_feed_when(
    enabled: bool, feed: Callable[[], LiveFanout | Awaitable[LiveFanout]]
) -> AsyncIterator[LiveFanout | None]:
    """The running fan-out (see ``fanning_out``), or None with STREAM_ENABLED=false: then
    nothing is built and the edges answer that live streams are off. ``feed`` builds it (an
    awaitable when its graph holds an async resource, such as the Redis client)."""
    if not enabled:
        yield None
        return
    built = feed()
    running = fanning_out(await built if inspect.isawaitable(built) else built)
    try:
        yield await anext(running)
    finally:
        await running.aclose()
