"""GET /ws, the protocol, over real sockets against the server as ``serve`` runs it and a fake
live feed: subscribe / unsubscribe / ping exactly as ../shared/API.md writes them, snapshot then
updates in order, errors with the REST codes that keep the connection open, the per-connection
caps, and each update encoded once for every subscriber.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from application.live.updates import LiveCandle
from domain.errors import AllProvidersFailed
from simulator import UpstreamSimulator
from tests.e2e.live_support import SNAPSHOT_BTC, SUBSCRIBE_BTC, StartLive, receive, send, start_live, subscribed_btc
from tests.fake_live_feed import MINUTE_MS, T0, candle, quote

__all__ = ["start_live"]
simulator: UpstreamSimulator  # the fixture, from tests.conftest


async def test_subscribe_echoes_then_snapshot_then_every_update(start_live: StartLive) -> None:
    service = await start_live()
    async with aiohttp.ClientSession() as http, http.ws_connect(service.ws_url) as ws:
        assert ws.get_extra_info("peername") is not None
        await send(ws, SUBSCRIBE_BTC)
        assert await receive(ws) == {"type": "subscribed", **SUBSCRIBE_BTC}
        snapshot = await receive(ws)
        assert snapshot.pop("timestamp") > 0
        assert snapshot == {"type": "snapshot", "channel": "candles", "symbol": "BTCUSDT", "interval": "1m",
                            "source": "binance", "data": SNAPSHOT_BTC}  # fmt: skip

        service.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 103.5, 2.0), False), event_time=T0 + 5)
        service.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 104.0, 2.5), True),
                                  LiveCandle(candle(T0 + MINUTE_MS, 104.0, 0.0), False), event_time=T0 + MINUTE_MS)  # fmt: skip
        first, second = await receive(ws), await receive(ws)
        assert first["type"] == second["type"] == "update"
        assert first["eventTime"] == T0 + 5 and second["eventTime"] == T0 + MINUTE_MS
        assert first["data"] == [{"timestamp": T0, "open": 102.5, "high": 105.5, "low": 100.5, "close": 103.5,
                                  "volume": 2.0, "closed": False}]  # fmt: skip
        assert [(c["timestamp"], c["close"], c["closed"]) for c in second["data"]] == [
            (T0, 104.0, True), (T0 + MINUTE_MS, 104.0, False)
        ]
        assert {k: second[k] for k in ("channel", "symbol", "interval", "source")} == {
            "channel": "candles", "symbol": "BTCUSDT", "interval": "1m", "source": "binance"
        }


async def test_updates_that_come_while_a_subscription_is_made_follow_its_snapshot(start_live: StartLive) -> None:
    service = await start_live()
    feed = service.feed
    async with aiohttp.ClientSession() as http:
        ws = await subscribed_btc(service, http)  # the connection's pump runs from now on
        feed.during_watch = lambda: (
            feed.push_candles("ETHUSDT", "1m", LiveCandle(candle(T0, 5.0), False)),
            feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 150.0), False)),
            feed.push_candles("ETHUSDT", "1m", LiveCandle(candle(T0, 6.0), True)),
        )
        await send(ws, {"op": "subscribe", "channel": "candles", "symbol": "ETH", "interval": "1m"})
        received = [await receive(ws) for _ in range(5)]
        # BTC's update is not held back by ETH's subscription; ETH's wait for its snapshot.
        assert [(m["type"], m.get("symbol")) for m in received] == [
            ("update", "BTCUSDT"), ("subscribed", "ETH"), ("snapshot", "ETHUSDT"), ("update", "ETHUSDT"), ("update", "ETHUSDT")
        ]
        assert [m["data"][0]["close"] for m in received[3:]] == [5.0, 6.0]
        await ws.close()


async def test_prices_subscription_and_ping(start_live: StartLive) -> None:
    service = await start_live()
    async with aiohttp.ClientSession() as http, http.ws_connect(service.ws_url) as ws:
        await send(ws, {"op": "ping"})
        assert await receive(ws) == {"type": "pong"}
        await send(ws, {"op": "ping", "id": "p-1"})
        assert await receive(ws) == {"type": "pong", "id": "p-1"}

        await send(ws, {"op": "subscribe", "channel": "prices", "symbols": ["ETH", "BTC"]})
        assert await receive(ws) == {"type": "subscribed", "op": "subscribe", "channel": "prices", "symbols": ["ETH", "BTC"]}
        snapshot = await receive(ws)
        assert snapshot["type"] == "snapshot" and snapshot["channel"] == "prices"
        assert [(q["symbol"], q["price"], q["priceUsd"]) for q in snapshot["data"]] == [("ETH", 101.0, 101.0), ("BTC", 100.0, 100.0)]
        assert set(snapshot["data"][0]) == {"symbol", "name", "price", "priceUsd", "change24h", "volume24h",
                                            "marketCap", "lastUpdate", "sources", "dropped", "spread",
                                            "disputed"}  # fmt: skip
        assert snapshot["data"][0]["marketCap"] is None  # unknown stays unknown

        service.feed.push_quotes(quote("SOL", 5.0))  # not watched: nothing comes
        service.feed.push_quotes(quote("BTC", 70_000.5), event_time=T0 + 1)
        update = await receive(ws)
        assert (update["type"], update["eventTime"], [(q["symbol"], q["price"]) for q in update["data"]]) == (
            "update", T0 + 1, [("BTC", 70_000.5)]
        )


@pytest.mark.parametrize(
    ("message", "code", "field", "request_id"),
    [
        ("not json", "INVALID_PARAMETER", "message", None),
        ("[1,2]", "INVALID_PARAMETER", "message", None),
        ('{"op":"dance","id":3}', "INVALID_PARAMETER", "op", 3),
        ('{"op":"subscribe","channel":"trades","id":"t"}', "INVALID_PARAMETER", "channel", "t"),
        ('{"op":"subscribe","channel":"candles","symbol":"BTC","intervall":"1m","id":4}', "INVALID_PARAMETER", "intervall", 4),
        ('{"op":"subscribe","channel":"candles","symbol":"DOGE","interval":"1m","id":5}', "INVALID_SYMBOL", "symbol", 5),
        ('{"op":"subscribe","channel":"candles","symbol":"BTC","interval":"2m","id":6}', "INVALID_INTERVAL", "interval", 6),
        ('{"op":"subscribe","channel":"prices","symbols":["BTC","NOPE"],"id":8}', "INVALID_SYMBOL", "symbols", 8),
        ('{"op":"subscribe","channel":"prices","symbols":"BTC","id":9}', "INVALID_SYMBOL", "symbols", 9),
        ('{"op":"unsubscribe","channel":"candles","symbol":"ETH","interval":"1h","id":10}', "INVALID_PARAMETER", "channel", 10),
        ('{"op":"ping","id":{"a":1}}', "INVALID_PARAMETER", "id", None),
    ],
)  # fmt: skip
async def test_refused_messages_are_answered_with_rest_codes_and_the_connection_stays_open(
    start_live: StartLive, message: str, code: str, field: str, request_id: object
) -> None:
    service = await start_live()
    async with aiohttp.ClientSession() as http, http.ws_connect(service.ws_url) as ws:
        await ws.send_str(message)
        error = await receive(ws)
        assert error["type"] == "error" and error["id"] == request_id
        assert (error["error"]["code"], error["error"]["details"], error["error"]["retryAfter"]) == (
            code, {"field": field}, None
        )
        assert len(error["error"]["message"]) < 200
        await send(ws, {"op": "ping", "id": 1})
        assert await receive(ws) == {"type": "pong", "id": 1}  # still open
    assert service.feed.watch_calls == []  # refused before the feed was asked


async def test_a_feed_failure_is_an_error_message_with_retry_after(start_live: StartLive) -> None:
    service = await start_live()
    service.feed.fail_with = AllProvidersFailed({"binance": "timed out"}, retry_after=4.2)
    async with aiohttp.ClientSession() as http, http.ws_connect(service.ws_url) as ws:
        await send(ws, SUBSCRIBE_BTC)
        error = await receive(ws)
        assert error == {"type": "error", "id": 7, "error": {
            "code": "PROVIDER_ERROR", "message": "no provider could answer and nothing is cached",
            "details": {"binance": "timed out"}, "retryAfter": 5}}  # fmt: skip
        await send(ws, SUBSCRIBE_BTC)  # and a later attempt works
        assert (await receive(ws))["type"] == "subscribed"


async def test_unsubscribe_stops_updates_and_releases_the_watch(start_live: StartLive) -> None:
    service = await start_live()
    feed = service.feed
    async with aiohttp.ClientSession() as http:
        ws = await subscribed_btc(service, http)
        await send(ws, {"op": "subscribe", "channel": "candles", "symbol": "ETH", "interval": "1m"})
        assert [(await receive(ws))["type"] for _ in range(2)] == ["subscribed", "snapshot"]
        assert feed.watchers("candles", "BTCUSDT", "1m") == 1

        # Another spelling of the same market is the same subscription.
        await send(ws, {"op": "unsubscribe", "channel": "candles", "symbol": "btc-usdt", "interval": "1m", "id": 2})
        assert await receive(ws) == {"type": "unsubscribed", "op": "unsubscribe", "channel": "candles",
                                     "symbol": "btc-usdt", "interval": "1m", "id": 2}  # fmt: skip
        assert feed.watchers("candles", "BTCUSDT", "1m") == 0
        feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 110.0), False))
        feed.push_candles("ETHUSDT", "1m", LiveCandle(candle(T0, 3.0), False))
        update = await receive(ws)
        assert (update["symbol"], update["data"][0]["close"]) == ("ETHUSDT", 3.0)  # BTC's never came

        # An update still queued when the client unsubscribes is not sent after "unsubscribed".
        [inbox] = feed.open_inboxes()
        inbox.hold()
        feed.push_candles("ETHUSDT", "1m", LiveCandle(candle(T0, 4.0), False))
        await send(ws, {"op": "unsubscribe", "channel": "candles", "symbol": "ETH", "interval": "1m"})
        assert (await receive(ws))["type"] == "unsubscribed"
        await send(ws, {"op": "subscribe", "channel": "prices", "symbols": ["BTC"]})
        assert [(await receive(ws))["type"] for _ in range(2)] == ["subscribed", "snapshot"]
        inbox.release()
        feed.push_quotes(quote("BTC", 1.5))
        after = await receive(ws)
        assert (after["channel"], after["data"][0]["price"]) == ("prices", 1.5)
        await ws.close()
    await asyncio.sleep(0.05)
    assert feed.watchers("prices") == 0
    assert feed.open_inboxes() == []


async def test_subscription_cap_and_duplicates(start_live: StartLive) -> None:
    service = await start_live(ws_max_subscriptions=2)
    async with aiohttp.ClientSession() as http:
        ws = await subscribed_btc(service, http)
        await send(ws, SUBSCRIBE_BTC)
        duplicate = await receive(ws)
        assert (duplicate["error"]["code"], duplicate["error"]["message"]) == (
            "INVALID_PARAMETER", "already subscribed to candles BTCUSDT 1m"
        )
        await send(ws, {"op": "subscribe", "channel": "prices"})
        assert [(await receive(ws))["type"] for _ in range(2)] == ["subscribed", "snapshot"]
        await send(ws, {"op": "subscribe", "channel": "candles", "symbol": "SOL", "interval": "5m", "id": 3})
        refused = await receive(ws)
        assert refused["id"] == 3 and refused["error"]["code"] == "RATE_LIMITED"
        assert refused["error"]["details"] == {"limit": 2, "group": "subscriptions"}
        assert service.feed.watchers("candles", "SOLUSDT", "5m") == 0
        await ws.close()


async def test_message_rate_cap_answers_once_then_ignores_until_the_rate_falls(start_live: StartLive) -> None:
    service = await start_live(ws_max_messages_per_second=3)
    async with aiohttp.ClientSession() as http, http.ws_connect(service.ws_url) as ws:
        for number in range(8):
            await send(ws, {"op": "ping", "id": number})
        answers = [await receive(ws) for _ in range(4)]
        assert answers[:3] == [{"type": "pong", "id": n} for n in range(3)]
        assert answers[3]["type"] == "error" and answers[3]["id"] is None
        assert answers[3]["error"]["code"] == "RATE_LIMITED"
        assert answers[3]["error"]["retryAfter"] == 1
        assert answers[3]["error"]["details"] == {"limit": 3, "group": "messages"}
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive(timeout=0.2)  # the four other messages: ignored, unanswered
        await asyncio.sleep(0.5)
        await send(ws, {"op": "ping", "id": "later"})
        assert await receive(ws) == {"type": "pong", "id": "later"}


async def test_each_update_is_encoded_once_for_every_subscriber(start_live: StartLive) -> None:
    service = await start_live()
    async with aiohttp.ClientSession() as http:
        clients = [await subscribed_btc(service, http) for _ in range(3)]
        update = service.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 130.0), False))
        assert update.rendered == {}  # offered, not yet sent
        frames = [(await c.receive(timeout=5)).data for c in clients]
        assert frames[0] == frames[1] == frames[2]
        assert update.rendered == {"json": frames[0].encode()}

        # What is kept on the update is what goes out: planted before the pumps run (nothing
        # was awaited since the push), these bytes reach every client as they are.
        planted = service.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 131.0), False))
        planted.rendered["json"] = b'{"planted":true}'
        assert [(await c.receive(timeout=5)).data for c in clients] == ['{"planted":true}'] * 3
        for c in clients:
            await c.close()


async def test_a_snapshot_is_encoded_for_its_one_subscriber_and_not_kept(start_live: StartLive) -> None:
    # The watch holds its snapshot for as long as the subscription lasts: bytes kept on it
    # would cost every open subscription its ~100 candles of JSON, for nothing.
    service = await start_live()
    async with aiohttp.ClientSession() as http:
        ws = await subscribed_btc(service, http)
        (watch,) = service.feed.inboxes[-1].watches
        assert watch.snapshot.type == "snapshot"
        assert watch.snapshot.rendered == {}
        await ws.close()


async def test_sandbox_mode_marks_every_live_message(start_live: StartLive) -> None:
    service = await start_live(sandbox=True)
    async with aiohttp.ClientSession() as http, http.ws_connect(service.ws_url) as ws:
        assert ws._response.headers["X-Data-Mode"] == "sandbox"
        await send(ws, SUBSCRIBE_BTC)
        assert (await receive(ws))["sandbox"] is True
        assert (await receive(ws))["sandbox"] is True
        update = service.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 1.0), False))
        assert (await receive(ws))["sandbox"] is True
        assert list(update.rendered) == ["json+sandbox"]
        await ws.send_str("?")
        assert (await receive(ws))["sandbox"] is True
