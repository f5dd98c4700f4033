"""``GET /api/stream/candles`` and ``GET /api/stream/prices``: live data as Server-Sent Events.

The stream opens with ``retry:`` and the snapshot (``event: snapshot``), then sends an
``event: update`` per change, each ``data:`` line the same JSON object as the WebSocket's, and a
``: keep-alive`` comment every SSE_KEEPALIVE seconds of silence. Candles events carry ``id:``
lines that let a reconnecting EventSource resume where it stopped (``sse_resume``). The server
ends a stream with ``event: end`` (``{"type":"end","reason":...}``) when it drains, when the
client fell too far behind, or when the feed closes. Bad parameters are answered in the error
envelope before the stream starts; opening a stream counts against the client's limit of the
endpoint group (ohlcv, prices).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from application.live.feed import FeedClosed, Inbox, SlowSubscriber, Watch
from application.live.updates import CandleUpdate
from entrypoints.rest.handlers import single_query
from entrypoints.rest.live import schemas
from entrypoints.rest.live.edge import LIVE, LiveEdge, live_feed
from entrypoints.rest.live.messages import LiveMessages, sse_event
from entrypoints.rest.live.sse_resume import missed_candles
from entrypoints.rest.stream_headers import apply_stream_headers

END_TIMEOUT = 1.0  # seconds the last event may take to go out before the connection is cut
KEEPALIVE = b": keep-alive\n\n"
DRAINING = "server shutting down"


async def stream_candles(request: web.Request) -> web.StreamResponse:
    """GET /api/stream/candles?symbol=BTC&interval=1m (``timeframe`` is an alias of interval)."""
    feed = live_feed(request)
    live = request.app[LIVE]
    query = single_query(request)
    interval = query.get("interval", query.get("timeframe")) or live.default_interval
    inbox = feed.inbox()
    try:
        watch = await feed.watch_candles(inbox, query.get("symbol"), interval)
    except BaseException:
        inbox.close()
        raise
    first = first_candles_event(live.messages, watch, request.headers.get("Last-Event-ID"))
    return await _serve(request, live, inbox, first)


async def stream_prices(request: web.Request) -> web.StreamResponse:
    """GET /api/stream/prices?symbols=BTC,ETH (none: every supported symbol)."""
    feed = live_feed(request)
    live = request.app[LIVE]
    symbols = single_query(request).get("symbols")
    inbox = feed.inbox()
    try:
        watch = await feed.watch_prices(inbox, symbols)
    except BaseException:
        inbox.close()
        raise
    # A price board is a state, replaced whole: a reconnecting client gets the snapshot again.
    return await _serve(request, live, inbox, live.messages.sse(watch.snapshot))


def first_candles_event(messages: LiveMessages, watch: Watch, last_event_id: str | None) -> bytes:
    """The snapshot; or, for a client resuming with ``Last-Event-ID``, only the candles it
    missed as an update (nothing when it missed nothing)."""
    snapshot = watch.snapshot
    assert isinstance(snapshot, CandleUpdate)
    missed = missed_candles(snapshot.candles, last_event_id)
    if missed is None:
        return messages.sse(snapshot)
    if not missed:
        return b""
    resumed = CandleUpdate("update", snapshot.symbol, snapshot.interval, snapshot.source, missed,
                           snapshot.event_time, snapshot.timestamp, snapshot.seq)  # fmt: skip
    return messages.sse(resumed)


async def _serve(request: web.Request, live: LiveEdge, inbox: Inbox, first: bytes) -> web.StreamResponse:
    """Stream ``first``, then the inbox's updates, until the client goes, the feed drops it or
    ends, or the server drains."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})  # fmt: skip
    apply_stream_headers(request, response)
    ended: list[str] = []
    pump: asyncio.Task[str | None] | None = None

    def end() -> None:  # the drain
        ended.append(DRAINING)
        if pump is not None:
            pump.cancel()

    live.ends.add(end)
    try:
        await response.prepare(request)
        await response.write(f"retry: {round(live.sse.retry * 1000)}\n\n".encode() + first)
        pump = asyncio.create_task(_forward(response, inbox, live))
        if ended:  # the drain began while the stream was opening
            pump.cancel()
        await asyncio.wait((pump,))
        reason = ended[0] if pump.cancelled() and ended else (None if pump.cancelled() else pump.result())
        if reason is not None:
            await _end(request, response, live.messages, reason)
    except ConnectionError:  # the client went away
        pass
    finally:
        live.ends.discard(end)
        if pump is not None:
            pump.cancel()
        inbox.close()
    return response


async def _forward(response: web.StreamResponse, inbox: Inbox, live: LiveEdge) -> str | None:
    """The inbox's updates to the client; returns why the stream ends (None: the client left)."""
    keepalive = live.sse.keepalive
    encoded = live.messages.sse
    try:
        while True:
            try:
                async with asyncio.timeout(keepalive):
                    chunk = encoded(await inbox.get())
            except TimeoutError:
                chunk = KEEPALIVE
            try:
                # A client that cannot take one event within this long has stopped reading.
                async with asyncio.timeout(keepalive):
                    await response.write(chunk)
            except TimeoutError:
                return "the client stopped reading"
    except SlowSubscriber as slow:
        return slow.reason
    except FeedClosed:
        return "the live feed closed"
    except ConnectionError:
        return None


async def _end(request: web.Request, response: web.StreamResponse, messages: LiveMessages, reason: str) -> None:
    """``event: end`` with ``reason``, then the end of the response; a client that does not
    take it in time is cut off."""
    body = messages.encode(schemas.EndMessage(reason=reason).body())
    try:
        async with asyncio.timeout(END_TIMEOUT):
            await response.write(sse_event("end", body))
            await response.write_eof()
    except (TimeoutError, ConnectionError):
        if request.transport is not None:
            request.transport.abort()
