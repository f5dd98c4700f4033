"""Self-tests of the simulated Kraken WebSocket v2, with a plain aiohttp WebSocket client."""

from __future__ import annotations

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

OHLC_BTC = {
    "method": "subscribe",
    "params": {"channel": "ohlc", "symbol": ["BTC/USD"], "interval": 1},
    "req_id": 1,
}


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock()


@pytest.fixture
async def sim(clock: MovingClock) -> AsyncIterator[UpstreamSimulator]:
    # heartbeats only after a second of silence: these tests read frames one by one
    async with UpstreamSimulator(
        now=clock, seed=7, stream_settings=StreamSettings(heartbeat_interval=30)
    ) as simulator:
        yield simulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        yield session


async def rest_rows(http: aiohttp.ClientSession, sim: UpstreamSimulator, interval: int = 1) -> list[Any]:
    url = sim.base_urls["kraken"] + "/0/public/OHLC"
    async with http.get(url, params={"pair": "XBTUSD", "interval": str(interval)}) as response:
        rows: list[Any] = (await response.json())["result"]["XXBTZUSD"]
        return rows


def as_rest_row(entry: dict[str, Any]) -> list[float]:
    return [entry["open"], entry["high"], entry["low"], entry["close"], entry["vwap"], entry["volume"]]


def floats(row: list[Any]) -> list[float]:
    return [float(value) for value in row[1:7]]


async def connected(ws: aiohttp.ClientWebSocketResponse) -> None:
    status = await receive_json(ws)
    assert status["channel"] == "status" and status["data"][0]["system"] == "online"


async def test_status_subscribe_ack_and_snapshot(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(sim.ws_urls["kraken"]) as ws:
        await connected(ws)
        await ws.send_json(OHLC_BTC)
        ack, snapshot = await receive_all(ws, 2)
    assert ack["method"] == "subscribe" and ack["success"] is True and ack["req_id"] == 1
    assert ack["result"] == {"channel": "ohlc", "symbol": "BTC/USD", "interval": 1, "snapshot": True}
    assert ack["time_in"] == "2024-05-24T05:20:34.500000Z"
    assert (snapshot["channel"], snapshot["type"]) == ("ohlc", "snapshot")
    rows = snapshot["data"]
    assert len(rows) == 10
    assert rows[-1]["interval_begin"] == "2024-05-24T05:20:00.000000000Z"
    assert rows[0]["interval_begin"] == "2024-05-24T05:11:00.000000000Z"
    assert (rows[-1]["symbol"], rows[-1]["interval"]) == ("BTC/USD", 1)
    rest = await rest_rows(http, sim)
    assert [as_rest_row(row) for row in rows] == [floats(row) for row in rest[-10:]]
    assert [row["trades"] for row in rows] == [row[7] for row in rest[-10:]]
    assert sim.streams.log.subscriptions("kraken") == []  # closed now


async def test_one_ack_per_symbol_and_unsupported_pairs(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    request = {
        "method": "subscribe",
        "params": {"channel": "ticker", "symbol": ["ETH/USD", "BNB/USD"]},
        "req_id": 4,
    }
    async with http.ws_connect(sim.ws_urls["kraken"]) as ws:
        await connected(ws)
        await ws.send_json(request)
        ack, snapshot, refusal = await receive_all(ws, 3)
        assert sim.streams.log.subscriptions("kraken") == ["ticker:ETH/USD"]
        await ws.send_json(
            {"method": "unsubscribe", "params": {"channel": "ticker", "symbol": ["ETH/USD"]}, "req_id": 5}
        )
        gone = await receive_json(ws)
        assert sim.streams.log.subscriptions("kraken") == []
    assert (ack["success"], ack["result"]["symbol"], snapshot["type"]) == (True, "ETH/USD", "snapshot")
    assert refusal == {
        "error": "Currency pair not supported BNB/USD", "method": "subscribe", "success": False, "req_id": 4,
        "symbol": "BNB/USD", "time_in": ack["time_in"], "time_out": ack["time_out"],
    }  # fmt: skip
    assert (
        gone["method"] == "unsubscribe" and gone["success"] is True and gone["result"]["symbol"] == "ETH/USD"
    )


async def test_a_candle_closes_with_one_last_update_of_its_final_values(
    sim: UpstreamSimulator, http: aiohttp.ClientSession, clock: MovingClock
) -> None:
    async with http.ws_connect(sim.ws_urls["kraken"]) as ws:
        await connected(ws)
        await ws.send_json(OHLC_BTC)
        await receive_all(ws, 2)
        assert await sim.streams.push() == 1
        current = (await receive_json(ws))["data"][0]
        clock.now += 60
        assert await sim.streams.push() == 2
        final, following = [frame["data"][0] for frame in await receive_all(ws, 2)]
        assert await sim.streams.push() == 1
        again = (await receive_json(ws))["data"][0]
    rest = await rest_rows(http, sim)
    assert current["interval_begin"] == final["interval_begin"] == "2024-05-24T05:20:00.000000000Z"
    assert following["interval_begin"] == again["interval_begin"] == "2024-05-24T05:21:00.000000000Z"
    assert as_rest_row(final) == floats(rest[-2])  # final values: what REST serves once it closed
    assert as_rest_row(current) != as_rest_row(final)  # it was in progress before


async def test_ticker_snapshot_and_updates_carry_the_rest_figures(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    request = {"method": "subscribe", "params": {"channel": "ticker", "symbol": ["BTC/USD"]}}
    async with http.ws_connect(sim.ws_urls["kraken"]) as ws:
        await connected(ws)
        await ws.send_json(request)
        ack, snapshot = await receive_all(ws, 2)
        await sim.streams.push()
        update = await receive_json(ws)
    async with http.get(sim.base_urls["kraken"] + "/0/public/Ticker", params={"pair": "XBTUSD"}) as response:
        rest = (await response.json())["result"]["XXBTZUSD"]
    assert "req_id" not in ack
    ticker = snapshot["data"][0]
    assert update == {"channel": "ticker", "type": "update", "data": [ticker]}
    assert (ticker["last"], ticker["high"], ticker["low"]) == (
        float(rest["c"][0]),
        float(rest["h"][1]),
        float(rest["l"][1]),
    )
    assert ticker["volume"] == float(rest["v"][1]) and ticker["vwap"] == float(rest["p"][1])
    assert ticker["change"] == round(float(rest["c"][0]) - float(rest["o"]), 1)


async def test_ping_pong_and_heartbeats_when_nothing_flows(http: aiohttp.ClientSession) -> None:
    async with (
        UpstreamSimulator(stream_settings=StreamSettings(heartbeat_interval=0.1)) as sim,
        http.ws_connect(sim.ws_urls["kraken"]) as ws,
    ):
        await connected(ws)
        await ws.send_json({"method": "ping", "req_id": 101})
        pong = await receive_json(ws)
        beats = await receive_all(ws, 3, timeout=0.5)
    assert (
        pong["method"] == "pong"
        and pong["req_id"] == 101
        and set(pong) == {"method", "req_id", "time_in", "time_out"}
    )
    assert beats == [{"channel": "heartbeat"}] * 3


async def test_bad_requests_are_answered_not_dropped(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(sim.ws_urls["kraken"]) as ws:
        await connected(ws)
        await ws.send_str("nope")
        await ws.send_json(
            {"method": "subscribe", "params": {"channel": "ohlc", "symbol": ["BTC/USD"], "interval": 2}}
        )
        await ws.send_json({"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"]}})
        replies = await receive_all(ws, 3)
        assert await nothing_arrives(ws, 0.1)
    assert [(reply["success"], reply["error"]) for reply in replies] == [
        (False, "EGeneral:Invalid arguments")
    ] * 3


async def test_the_maintenance_notice_then_close(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(sim.ws_urls["kraken"]) as ws:
        await connected(ws)
        assert await sim.streams.fault("kraken", "server_shutdown", grace=0.05) == 1
        notice = await receive_json(ws)
        closing = await ws.receive(timeout=2)
    assert notice["channel"] == "status" and notice["data"][0]["system"] == "maintenance"
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1001


async def test_the_open_candle_follows_the_clock_from_the_snapshot(
    sim: UpstreamSimulator, http: aiohttp.ClientSession, clock: MovingClock
) -> None:
    clock.now = MINUTE_OPEN_MS / 1000 + 59.9
    async with http.ws_connect(sim.ws_urls["kraken"]) as ws:
        await connected(ws)
        await ws.send_json(OHLC_BTC)
        _, snapshot = await receive_all(ws, 2)
        clock.now += 0.2  # the 05:20 candle closes right after the snapshot
        assert await sim.streams.push() == 2
        final, following = [frame["data"][0] for frame in await receive_all(ws, 2)]
    assert (
        snapshot["data"][-1]["interval_begin"] == final["interval_begin"] == "2024-05-24T05:20:00.000000000Z"
    )
    assert following["interval_begin"] == "2024-05-24T05:21:00.000000000Z"
