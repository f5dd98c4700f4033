"""GET /api/stream/candles and /api/stream/prices over real sockets, with a fake live feed.

The stream's framing (retry, snapshot, updates with ids, keep-alive comments, the end event),
resuming from Last-Event-ID without repeats, bad parameters answered in the envelope before
the stream starts, the opening request counted against the client's limit, the drain.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson
import pytest

from application.live.updates import LiveCandle
from simulator import UpstreamSimulator
from tests.e2e.live_support import LiveService, StartLive, start_live
from tests.fake_live_feed import MINUTE_MS, T0, candle, quote

__all__ = ["start_live"]
simulator: UpstreamSimulator  # the fixture, from tests.conftest

CANDLES = "/api/stream/candles?symbol=BTC&interval=1m"


class EventStream:
    """A minimal SSE reader (what EventSource does): events as dicts, comments kept apart."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.comments: list[str] = []
        self.retry: int | None = None

    async def next(self, timeout: float = 5.0) -> dict[str, Any] | None:
        """The next event ({"id"?, "event", "data"}), or None at the end of the stream."""
        event: dict[str, Any] = {}
        async with asyncio.timeout(timeout):  # a safety net, not a timing assertion
            while True:
                raw = await self.response.content.readline()
                if not raw:
                    return None
                line = raw.decode().rstrip("\n")
                if not line:
                    if "data" in event:
                        event["data"] = orjson.loads(event["data"])
                        return event
                    continue
                if line.startswith(":"):
                    self.comments.append(line)
                    continue
                name, _, value = line.partition(": ")
                if name == "retry":
                    self.retry = int(value)
                else:
                    event[name] = value


async def open_stream(http: aiohttp.ClientSession, service: LiveService, path: str, **headers: str) -> EventStream:
    response = await http.get(service.url(path), headers=headers)
    assert response.status == 200, await response.text()
    return EventStream(response)


async def test_candles_stream_snapshot_then_updates_with_ids(start_live: StartLive) -> None:
    service = await start_live(sse_retry=2.5)
    async with aiohttp.ClientSession() as http:
        stream = await open_stream(http, service, CANDLES, **{"X-Request-ID": "sse-1", "Origin": "https://a.example"})
        headers = stream.response.headers
        assert headers["Content-Type"] == "text/event-stream"
        assert headers["Cache-Control"] == "no-cache"
        assert headers["X-Request-ID"] == "sse-1"
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert headers["X-RateLimit-Limit"] == "60"  # the ohlcv group's
        snapshot = await stream.next()
        assert service.feed.inboxes[-1].watches[0].snapshot.rendered == {}  # sent to one client: not kept
        assert stream.retry == 2500
        assert (snapshot["id"], snapshot["event"], snapshot["data"]["type"]) == (f"{T0}-live", "snapshot", "snapshot")
        assert [(c["timestamp"], c["closed"]) for c in snapshot["data"]["data"]] == [
            (T0 - 2 * MINUTE_MS, True), (T0 - MINUTE_MS, True), (T0, False)
        ]
        update = service.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 105.0), True), event_time=T0 + 59_999)
        event = await stream.next()
        assert (event["id"], event["event"]) == (f"{T0}-closed", "update")
        # The same JSON object as the WebSocket's, byte for byte.
        assert orjson.dumps(event["data"]) == update.rendered["json"]
        assert list(update.rendered) == ["json", "sse"]
        stream.response.close()


async def test_prices_stream(start_live: StartLive) -> None:
    service = await start_live()
    async with aiohttp.ClientSession() as http:
        stream = await open_stream(http, service, "/api/stream/prices?symbols=BTC,SOL")
        assert stream.response.headers["X-RateLimit-Limit"] == "120"  # the prices group's
        snapshot = await stream.next()
        assert snapshot["event"] == "snapshot"
        assert [(q["symbol"], q["price"]) for q in snapshot["data"]["data"]] == [("BTC", 100.0), ("SOL", 102.0)]
        service.feed.push_quotes(quote("SOL", 150.25), event_time=T0)
        event = await stream.next()
        assert event["event"] == "update"
        assert event["data"]["eventTime"] == T0
        assert [(q["symbol"], q["price"]) for q in event["data"]["data"]] == [("SOL", 150.25)]
        stream.response.close()


@pytest.mark.parametrize(
    ("last_event_id", "event", "candles"),
    [
        # Saw the candle in progress: it again (now closed), and the ones after it.
        (f"{T0 - MINUTE_MS}-live", "update", [(T0 - MINUTE_MS, True), (T0, False)]),
        # Saw it closed: only the ones after it.
        (f"{T0 - MINUTE_MS}-closed", "update", [(T0, False)]),
        (f"{T0 - 2 * MINUTE_MS}-closed", "update", [(T0 - MINUTE_MS, True), (T0, False)]),
        # Older than the snapshot's oldest: the gap cannot be bridged, the whole snapshot again.
        (f"{T0 - 3 * MINUTE_MS}-closed", "snapshot", [(T0 - 2 * MINUTE_MS, True), (T0 - MINUTE_MS, True), (T0, False)]),
        ("garbage", "snapshot", [(T0 - 2 * MINUTE_MS, True), (T0 - MINUTE_MS, True), (T0, False)]),
    ],
)  # fmt: skip
async def test_a_reconnecting_event_source_gets_what_it_missed_and_nothing_twice(
    start_live: StartLive, last_event_id: str, event: str, candles: list[tuple[int, bool]]
) -> None:
    service = await start_live()
    async with aiohttp.ClientSession() as http:
        stream = await open_stream(http, service, CANDLES, **{"Last-Event-ID": last_event_id})
        first = await stream.next()
        assert first["event"] == event
        assert [(c["timestamp"], c["closed"]) for c in first["data"]["data"]] == candles
        assert first["id"] == f"{T0}-live"
        stream.response.close()


async def test_a_client_up_to_date_gets_no_first_event_but_the_next_update(start_live: StartLive) -> None:
    service = await start_live()
    async with aiohttp.ClientSession() as http:
        stream = await open_stream(http, service, CANDLES, **{"Last-Event-ID": f"{T0}-live"})
        await asyncio.sleep(0.05)
        # In progress when last seen: sent again in its current state (here unchanged).
        again = await stream.next()
        assert (again["event"], [c["timestamp"] for c in again["data"]["data"]]) == ("update", [T0])
        stream.response.close()

        service.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 103.0), True))
        stream = await open_stream(http, service, CANDLES, **{"Last-Event-ID": f"{T0}-closed"})
        service.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0 + MINUTE_MS, 104.0), False))
        first = await stream.next()  # nothing was missed: the first event is the new update
        assert (first["event"], first["id"], first["data"]["data"][0]["close"]) == ("update", f"{T0 + MINUTE_MS}-live", 104.0)
        stream.response.close()


@pytest.mark.parametrize(
    ("path", "code", "field"),
    [
        ("/api/stream/candles?symbol=DOGE&interval=1m", "INVALID_SYMBOL", "symbol"),
        ("/api/stream/candles?symbol=BTC&interval=7m", "INVALID_INTERVAL", "interval"),
        ("/api/stream/candles?interval=1m", "INVALID_PARAMETER", "symbol"),
        ("/api/stream/candles?symbol=BTC&symbol=ETH", "INVALID_PARAMETER", "symbol"),
        ("/api/stream/prices?symbols=BTC,,ETH", "INVALID_SYMBOL", "symbols"),
    ],
)
async def test_bad_parameters_are_answered_in_the_envelope_before_the_stream(
    start_live: StartLive, path: str, code: str, field: str
) -> None:
    service = await start_live()
    async with aiohttp.ClientSession() as http:
        answer = await http.get(service.url(path))
        assert answer.status == 400
        assert answer.content_type == "application/json"
        body = await answer.json()
        assert (body["success"], body["error"]["code"], body["error"]["details"]) == (False, code, {"field": field})
    assert service.feed.open_inboxes() == []


async def test_opening_a_stream_counts_against_the_groups_limit(start_live: StartLive) -> None:
    service = await start_live(rate_limit_ohlcv=2)
    async with aiohttp.ClientSession() as http:
        streams = [await open_stream(http, service, CANDLES) for _ in range(2)]
        refused = await http.get(service.url(CANDLES))
        assert refused.status == 429
        body = await refused.json()
        assert (body["error"]["code"], body["error"]["details"]) == ("RATE_LIMITED", {"limit": 2, "group": "ohlcv"})
        assert int(refused.headers["Retry-After"]) >= 1
        async with http.get(service.url("/api/stream/prices")) as other_group:
            assert other_group.status == 200  # another group's limit
        for stream in streams:
            stream.response.close()


async def test_keep_alive_comments_on_a_quiet_stream(start_live: StartLive) -> None:
    service = await start_live(sse_keepalive=0.1)
    async with aiohttp.ClientSession() as http:
        stream = await open_stream(http, service, CANDLES)
        await stream.next()
        await asyncio.sleep(0.35)
        service.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 106.0), False))
        update = await stream.next()
        assert update["data"]["data"][0]["close"] == 106.0
        assert len(stream.comments) >= 2 and set(stream.comments) == {": keep-alive"}
        stream.response.close()


async def test_the_drain_ends_streams_with_an_end_event(start_live: StartLive) -> None:
    service = await start_live()
    async with aiohttp.ClientSession() as http:
        candles = await open_stream(http, service, CANDLES)
        prices = await open_stream(http, service, "/api/stream/prices")
        for stream in (candles, prices):
            assert (await stream.next())["event"] == "snapshot"
        service.shutdown.begin()
        for stream in (candles, prices):
            end = await stream.next()
            assert (end["event"], end["data"]) == ("end", {"type": "end", "reason": "server shutting down"})
            assert await stream.next() is None  # and the stream is over
        refused = await http.get(service.url(CANDLES))
        assert refused.status == 503
    await asyncio.sleep(0.05)
    assert service.feed.open_inboxes() == []


async def test_a_slow_client_gets_the_reason_and_the_end(start_live: StartLive) -> None:
    service = await start_live()
    async with aiohttp.ClientSession() as http:
        slow = await open_stream(http, service, CANDLES)
        fast = await open_stream(http, service, CANDLES)
        for stream in (slow, fast):
            await stream.next()
        service.feed.open_inboxes()[0].drop("fell too far behind")
        end = await slow.next()
        assert (end["event"], end["data"]) == ("end", {"type": "end", "reason": "fell too far behind"})
        assert await slow.next() is None
        service.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 107.0), False))
        assert (await fast.next())["data"]["data"][0]["close"] == 107.0
        fast.response.close()


async def test_streams_off_is_404(start_live: StartLive) -> None:
    service = await start_live(feed=None)
    async with aiohttp.ClientSession() as http:
        for path in (CANDLES, "/api/stream/prices"):
            answer = await http.get(service.url(path))
            assert answer.status == 404
            assert (await answer.json())["error"]["code"] == "NOT_FOUND"

