"""Self-tests of the simulated Binance combined streams, with a plain aiohttp WebSocket client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from simulator import StreamSettings, UpstreamSimulator
from tests.simulator.stream_support import (
    MINUTE_OPEN_MS,
    MovingClock,
    nothing_arrives,
    receive_all,
    receive_json,
)

MINUTE_MS = 60_000


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock()


@pytest.fixture
async def sim(clock: MovingClock) -> AsyncIterator[UpstreamSimulator]:
    async with UpstreamSimulator(now=clock, seed=7) as simulator:
        yield simulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        yield session


def stream_url(sim: UpstreamSimulator) -> str:
    return sim.ws_urls["binance"] + "/stream"


async def klines(
    http: aiohttp.ClientSession, sim: UpstreamSimulator, interval: str = "1m", limit: int = 5
) -> list[Any]:
    url = sim.base_urls["binance"] + "/api/v3/klines"
    async with http.get(
        url, params={"symbol": "BTCUSDT", "interval": interval, "limit": str(limit)}
    ) as response:
        rows: list[Any] = await response.json()
        return rows


def kline_as_row(kline: dict[str, Any]) -> list[Any]:
    """The REST row fields a kline event carries."""
    return [kline["t"], kline["o"], kline["h"], kline["l"], kline["c"], kline["v"], kline["T"], kline["q"],
            kline["n"], kline["V"], kline["Q"]]  # fmt: skip


async def test_ws_urls_follow_the_service_settings(sim: UpstreamSimulator) -> None:
    port = sim.root.rsplit(":", 1)[1]
    assert sim.ws_urls == {
        "binance": f"ws://127.0.0.1:{port}/binance",
        "kraken": f"ws://127.0.0.1:{port}/kraken/v2",
    }


async def test_subscribe_list_and_the_first_push(
    sim: UpstreamSimulator, http: aiohttp.ClientSession, clock: MovingClock
) -> None:
    async with http.ws_connect(stream_url(sim)) as ws:
        await ws.send_json(
            {"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m", "btcusdt@miniTicker"], "id": 1}
        )
        assert await receive_json(ws) == {"result": None, "id": 1}
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 2})
        assert await receive_json(ws) == {"result": ["btcusdt@kline_1m", "btcusdt@miniTicker"], "id": 2}
        assert await sim.streams.push() == 2
        kline, ticker = await receive_all(ws, 2)
    assert kline["stream"] == "btcusdt@kline_1m"
    data = kline["data"]
    assert (data["e"], data["E"], data["s"]) == ("kline", int(clock.now * 1000), "BTCUSDT")
    assert (data["k"]["i"], data["k"]["x"], data["k"]["t"]) == ("1m", False, MINUTE_OPEN_MS)
    assert kline_as_row(data["k"]) == (await klines(http, sim))[-1][:11]
    async with http.get(
        sim.base_urls["binance"] + "/api/v3/ticker/24hr", params={"symbol": "BTCUSDT"}
    ) as response:
        rest = await response.json()
    assert ticker == {
        "stream": "btcusdt@miniTicker",
        "data": {"e": "24hrMiniTicker", "E": int(clock.now * 1000), "s": "BTCUSDT", "c": rest["lastPrice"],
                 "o": rest["openPrice"], "h": rest["highPrice"], "l": rest["lowPrice"], "v": rest["volume"],
                 "q": rest["quoteVolume"]},
    }  # fmt: skip


async def test_a_closed_candle_is_final_exactly_once_then_the_next_one_starts(
    sim: UpstreamSimulator, http: aiohttp.ClientSession, clock: MovingClock
) -> None:
    async with http.ws_connect(stream_url(sim) + "?streams=btcusdt@kline_1m") as ws:
        await sim.streams.push()
        first = (await receive_json(ws))["data"]["k"]
        clock.now += 60  # 05:21:34.5: the 05:20 candle closed
        assert await sim.streams.push() == 2
        final, current = [frame["data"]["k"] for frame in await receive_all(ws, 2)]
        assert await sim.streams.push() == 1  # the final is not sent again
        again = (await receive_json(ws))["data"]["k"]
        clock.now += 180  # three more candles closed: 05:21, 05:22, 05:23
        assert await sim.streams.push() == 4
        burst = [frame["data"]["k"] for frame in await receive_all(ws, 4)]
    rest = await klines(http, sim, limit=6)
    assert (first["t"], first["x"]) == (MINUTE_OPEN_MS, False)
    assert (final["t"], final["x"]) == (MINUTE_OPEN_MS, True)
    assert kline_as_row(final) == rest[1][:11]  # the final values are what REST serves afterwards
    assert (current["t"], current["x"], again["t"], again["x"]) == (MINUTE_OPEN_MS + MINUTE_MS, False) * 2
    assert [(k["t"], k["x"]) for k in burst] == [
        (MINUTE_OPEN_MS + MINUTE_MS, True),
        (MINUTE_OPEN_MS + 2 * MINUTE_MS, True),
        (MINUTE_OPEN_MS + 3 * MINUTE_MS, True),
        (MINUTE_OPEN_MS + 4 * MINUTE_MS, False),
    ]
    assert [kline_as_row(k) for k in burst[:3]] == [row[:11] for row in rest[2:5]]


async def test_a_candle_in_progress_when_subscribed_closes_even_without_an_earlier_push(
    sim: UpstreamSimulator, http: aiohttp.ClientSession, clock: MovingClock
) -> None:
    """Binance sends the final kline of every candle that closes while a stream is subscribed,
    the one in progress at the SUBSCRIBE included."""
    async with http.ws_connect(stream_url(sim)) as ws:
        await ws.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m"], "id": 1})
        assert await receive_json(ws) == {"result": None, "id": 1}
        clock.now += 60  # the 05:20 candle closed before anything was pushed
        assert await sim.streams.push() == 2
        final, current = [frame["data"]["k"] for frame in await receive_all(ws, 2)]
    rest = await klines(http, sim, limit=2)
    assert (final["t"], final["x"], current["t"], current["x"]) == (
        MINUTE_OPEN_MS, True, MINUTE_OPEN_MS + MINUTE_MS, False,
    )  # fmt: skip
    assert kline_as_row(final) == rest[0][:11]


async def test_every_supported_interval_and_unknown_symbols(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    names = [f"ethusdt@kline_{i}" for i in ("1m", "5m", "15m", "1h", "4h", "1d", "1w")] + [
        "nopeusdt@kline_1m"
    ]
    async with http.ws_connect(stream_url(sim)) as ws:
        await ws.send_json({"method": "SUBSCRIBE", "params": names, "id": 9})
        assert await receive_json(ws) == {"result": None, "id": 9}
        assert await sim.streams.push() == 7  # Binance accepts an unknown symbol and sends nothing for it
        frames = await receive_all(ws, 7)
    assert [frame["data"]["k"]["i"] for frame in frames] == ["1m", "5m", "15m", "1h", "4h", "1d", "1w"]
    assert frames[-1]["data"]["k"]["t"] == 1_716_163_200_000  # Monday 2024-05-20 00:00 UTC


async def test_control_errors_in_binance_form(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    sim.streams.settings.max_streams = 3
    sim.streams.settings.message_rate = 100  # this test is not about the rate
    async with http.ws_connect(stream_url(sim)) as ws:
        await ws.send_str("{not json")
        assert (await receive_json(ws))["error"]["code"] == 3
        await ws.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 1})
        assert await receive_json(ws) == {
            "error": {"code": 2, "msg": "Invalid request: invalid stream name btcusdt@trade"},
            "id": 1,
        }
        await ws.send_json({"method": "FOO", "id": 2})
        reply = await receive_json(ws)
        assert (reply["error"]["code"], reply["id"]) == (2, 2)
        names = ["btcusdt@kline_1m", "ethusdt@kline_1m", "solusdt@kline_1m", "xrpusdt@kline_1m"]
        await ws.send_json({"method": "SUBSCRIBE", "params": names, "id": 3})
        assert await receive_json(ws) == {
            "error": {"code": 2, "msg": "Invalid request: at most 3 streams"},
            "id": 3,
        }
        await ws.send_json({"method": "SUBSCRIBE", "params": names[:3], "id": 4})
        assert await receive_json(ws) == {"result": None, "id": 4}
        await ws.send_json({"method": "UNSUBSCRIBE", "params": names[:1], "id": 5})
        assert await receive_json(ws) == {"result": None, "id": 5}
        assert sim.streams.log.subscriptions("binance") == sorted(names[1:3])
    await asyncio.sleep(0.05)
    assert (sim.streams.log.opened_count("binance"), sim.streams.log.open_count("binance")) == (1, 0)
    assert [frame.payload["id"] for frame in sim.streams.log.frames("binance", "text")[1:]] == [1, 2, 3, 4, 5]


async def test_more_than_five_incoming_messages_a_second_disconnect(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(stream_url(sim)) as ws:
        for request_id in range(5):
            await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": request_id})
        assert [reply["id"] for reply in await receive_all(ws, 5)] == [0, 1, 2, 3, 4]
        await asyncio.sleep(1.05)
        for request_id in range(4):
            await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": request_id})
        await ws.pong(b"unsolicited")  # pongs count too: the sixth message within a second
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 99})
        replies = await receive_all(ws, 4)
        closing = await ws.receive(timeout=2)
    assert [reply["id"] for reply in replies] == [0, 1, 2, 3]
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1008


async def test_server_pings_and_a_missing_pong_disconnects(http: aiohttp.ClientSession) -> None:
    settings = StreamSettings(ping_interval=0.25, pong_timeout=0.3)  # pongs count: at most 5 a second
    async with UpstreamSimulator(stream_settings=settings) as sim:
        async with http.ws_connect(stream_url(sim)) as answering:  # aiohttp answers pings as it reads
            assert await nothing_arrives(answering, 0.6)
        async with http.ws_connect(stream_url(sim), autoping=False) as silent:
            ping = await silent.receive(timeout=1)
            assert ping.type == aiohttp.WSMsgType.PING and ping.data == b"1"
            closing = await silent.receive(timeout=1)
            assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1008
        assert [frame.kind for frame in sim.streams.log.frames("binance")][:2] == ["pong", "pong"]


async def test_the_connection_lifetime_cut(http: aiohttp.ClientSession) -> None:
    async with (
        UpstreamSimulator(stream_settings=StreamSettings(max_lifetime=0.3)) as sim,
        http.ws_connect(stream_url(sim)) as ws,
    ):
        closing = await ws.receive(timeout=2)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1000


async def test_server_shutdown_notice_then_close(
    sim: UpstreamSimulator, http: aiohttp.ClientSession, clock: MovingClock
) -> None:
    async with http.ws_connect(stream_url(sim)) as ws:
        assert await sim.streams.fault("binance", "server_shutdown", grace=0.1) == 1
        notice = await receive_json(ws)
        closing = await ws.receive(timeout=2)
    assert notice == {
        "stream": "!serverShutdown",
        "data": {"e": "serverShutdown", "E": int(clock.now * 1000)},
    }
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1001


async def test_a_background_cadence_pushes_by_itself(http: aiohttp.ClientSession) -> None:
    async with (
        UpstreamSimulator(stream_cadence=0.05) as sim,
        http.ws_connect(stream_url(sim) + "?streams=ethusdt@miniTicker") as ws,
    ):
        first, second = await receive_all(ws, 2)
    assert first["data"]["e"] == second["data"]["e"] == "24hrMiniTicker"


async def test_websockets_stay_out_of_the_http_faults_and_log(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    sim.set_fault("binance", "http_500")
    async with http.ws_connect(stream_url(sim) + "?streams=btcusdt@kline_1m") as ws:
        await sim.streams.push()
        assert (await receive_json(ws))["stream"] == "btcusdt@kline_1m"
    assert sim.calls("binance") == 0
    assert sim.faults("binance")[0].remaining is None
