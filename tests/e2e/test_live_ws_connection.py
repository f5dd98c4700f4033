"""GET /ws, the connection: frames refused with a close code, server pings, a slow client closed
with its reason while another keeps receiving, the drain closes with 1001, the edge headers of
the upgrade, and the per-client connection cap counting WebSockets.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson
import pytest
import structlog

from application.live.updates import LiveCandle
from simulator import UpstreamSimulator
from tests.e2e.live_support import SUBSCRIBE_BTC, StartLive, closed, receive, send, start_live, subscribed_btc
from tests.fake_live_feed import T0, candle

__all__ = ["start_live"]
simulator: UpstreamSimulator  # the fixture, from tests.conftest


async def test_an_oversized_message_closes_with_1009(start_live: StartLive) -> None:
    service = await start_live(ws_max_message_size=256)
    async with aiohttp.ClientSession() as http, http.ws_connect(service.ws_url) as ws:
        await ws.send_str('{"op":"ping","id":"' + "x" * 300 + '"}')
        code, _ = await closed(ws)
        assert code == 1009
    await asyncio.sleep(0.05)
    assert service.runner.server is not None and len(service.runner.server.connections) == 0


async def test_a_binary_frame_closes_with_1003_and_a_reason(start_live: StartLive) -> None:
    service = await start_live()
    async with aiohttp.ClientSession() as http:
        ws = await subscribed_btc(service, http)
        await ws.send_bytes(b'{"op":"ping"}')
        assert await closed(ws) == (1003, "binary frames are not accepted: send JSON text")
    await asyncio.sleep(0.05)
    assert service.feed.open_inboxes() == []


async def test_a_client_that_does_not_answer_pings_is_dropped(start_live: StartLive) -> None:
    service = await start_live(ws_heartbeat=0.3)
    async with aiohttp.ClientSession() as http:
        loop = asyncio.get_running_loop()
        started = loop.time()
        # autoping off and nothing read: this client never answers the server's pings.
        dead = await http.ws_connect(service.ws_url, autoping=False)
        await send(dead, SUBSCRIBE_BTC)
        alive = await subscribed_btc(service, http)
        received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def read() -> None:  # reading is what makes aiohttp's client answer the pings
            async for message in alive:
                received.put_nowait(orjson.loads(message.data))

        reading = asyncio.create_task(read())
        while len(service.feed.open_inboxes()) > 1 and loop.time() - started < 5:
            await asyncio.sleep(0.05)
        assert len(service.feed.open_inboxes()) == 1  # the dead one's inbox was released
        assert loop.time() - started >= 0.3
        await asyncio.sleep(0.5)  # more heartbeats: the live one stays
        service.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 120.0), False))
        update = await asyncio.wait_for(received.get(), 5)
        assert update["data"][0]["close"] == 120.0
        assert len(service.feed.open_inboxes()) == 1
        reading.cancel()
        for ws in (dead, alive):
            await ws.close()


async def test_a_slow_client_is_closed_with_its_reason_while_another_keeps_receiving(start_live: StartLive) -> None:
    service = await start_live()
    feed = service.feed
    async with aiohttp.ClientSession() as http:
        slow = await subscribed_btc(service, http)
        fast = await subscribed_btc(service, http)
        slow_inbox, fast_inbox = feed.open_inboxes()
        slow_inbox.drop("fell 1000 updates behind; reconnect for a fresh snapshot")
        assert await closed(slow) == (1013, "fell 1000 updates behind; reconnect for a fresh snapshot")
        for close in range(50):
            feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 200.0 + close), False))
        closes = [(await receive(fast))["data"][0]["close"] for _ in range(50)]
        assert closes == [200.0 + n for n in range(50)]
        assert fast_inbox.closed is False and slow_inbox.closed is True
        await fast.close()


async def test_the_drain_closes_every_websocket_with_1001_and_refuses_new_ones(start_live: StartLive) -> None:
    service = await start_live()
    async with aiohttp.ClientSession() as http:
        idle = await http.ws_connect(service.ws_url)
        busy = await subscribed_btc(service, http)
        service.shutdown.begin()
        assert await closed(idle) == (1001, "server shutting down")
        assert await closed(busy) == (1001, "server shutting down")
        refused = await http.get(service.url("/ws"), headers={"Connection": "close"})
        assert refused.status == 503
        assert (await refused.json())["error"]["code"] == "SERVICE_UNAVAILABLE"
    await asyncio.sleep(0.05)
    assert service.feed.open_inboxes() == []


async def test_rest_refusals_before_the_upgrade(start_live: StartLive) -> None:
    off = await start_live(feed=None)
    on = await start_live()
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(off.ws_url)
        assert refused.value.status == 404
        answer = await http.get(off.url("/ws"))
        assert answer.status == 404
        assert (await answer.json())["error"] == {
            "code": "NOT_FOUND", "message": "live streams are switched off on this service (STREAM_ENABLED=false)",
            "details": None, "retryAfter": None}  # fmt: skip
        plain = await http.get(on.url("/ws"), headers={"Origin": "https://app.example"})
        assert plain.status == 400
        assert (await plain.json())["error"]["code"] == "INVALID_PARAMETER"
        assert plain.headers["Access-Control-Allow-Origin"] == "*"


async def test_the_upgrade_answer_carries_the_edge_headers(start_live: StartLive) -> None:
    service = await start_live()
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(service.ws_url, headers={"X-Request-ID": "ws-req-1", "Origin": "https://a.example"})
        headers = ws._response.headers
        assert headers["X-Request-ID"] == "ws-req-1"
        assert headers["Server"] == "crypto-data-engine"
        assert headers["Access-Control-Allow-Origin"] == "*"
        await ws.close()


async def test_websockets_count_against_the_per_client_connection_cap(start_live: StartLive) -> None:
    service = await start_live(per_client=2)
    async with aiohttp.ClientSession() as http:
        first = await subscribed_btc(service, http)
        second = await http.ws_connect(service.ws_url)
        with pytest.raises((aiohttp.ClientError, ConnectionError)):
            async with aiohttp.ClientSession() as other:  # a third connection from the same address
                await other.ws_connect(service.ws_url)
        await second.close()
        await asyncio.sleep(0.05)
        third = await http.ws_connect(service.ws_url)  # a place freed: admitted again
        await send(third, {"op": "ping"})
        assert await receive(third) == {"type": "pong"}
        for ws in (first, third):
            await ws.close()


async def test_a_websocket_outlives_the_request_head_timeout(start_live: StartLive) -> None:
    service = await start_live(http_header_timeout=0.2)
    async with aiohttp.ClientSession() as http:
        ws = await subscribed_btc(service, http)
        for number in range(6):  # frames arrive for 0.6 s, three times the head timeout
            await send(ws, {"op": "ping", "id": number})
            assert await receive(ws) == {"type": "pong", "id": number}
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)  # and silence
        service.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 150.0), False))
        assert (await receive(ws))["data"][0]["close"] == 150.0
        await ws.close()


async def test_a_client_gone_while_its_subscription_is_made_ends_quietly(start_live: StartLive) -> None:
    # The snapshot takes a while; the client leaves meanwhile. Answering it fails on the closed
    # connection: the session ends, and no "unhandled error" is logged (it is no bug of ours).
    service = await start_live()
    service.feed.watch_delay = 0.3
    with structlog.testing.capture_logs() as logs:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(service.ws_url)
            await send(ws, SUBSCRIBE_BTC)
            await asyncio.sleep(0.05)
            transport = ws._response.connection.transport  # type: ignore[union-attr]
            assert transport is not None
            transport.abort()  # gone, without a closing handshake
        await asyncio.sleep(0.6)  # the snapshot is ready and the answer fails
    assert [entry["event"] for entry in logs if entry.get("log_level") == "error"] == []


async def test_websocket_frames_are_not_taken_for_a_request_head(start_live: StartLive) -> None:
    # Once upgraded, the connection carries frames: the header-timeout clock must not start on
    # them (it re-armed every HTTP_HEADER_TIMEOUT/4 for as long as the WebSocket lived, and
    # buffered the client's frames as a "head"; seen at 3-5% of the profile with 1,000 clients).
    service = await start_live()
    async with aiohttp.ClientSession() as http, http.ws_connect(service.ws_url) as ws:
        await send(ws, SUBSCRIBE_BTC)
        assert (await receive(ws))["type"] == "subscribed"
        assert (await receive(ws))["type"] == "snapshot"
        for _ in range(3):
            await send(ws, {"op": "ping"})
            assert (await receive(ws))["type"] == "pong"
        server = service.runner.server
        assert server is not None
        [connection] = server.connections
        assert (connection._head, connection._head_since) == (None, None)  # type: ignore[attr-defined]
