"""The WebSocket channel `indicators` over the real live chain: the simulator's Binance stream
moves the candles, and every row a client gets equals TA-Lib computed here over the candles
GET /api/ohlcv serves at that moment (limit = 1 + warmup)."""

from __future__ import annotations

from typing import Any

import aiohttp
import numpy as np
import talib
from dependency_injector import providers

from adapters.indicators.talib_engine import TalibEngine
from entrypoints.container import Container
from tests.e2e.live_chain_support import (
    MINUTE_MS,
    T0_MS,
    ChainService,
    StartChain,
    WallClock,
    chain_sim,  # noqa: F401 - fixture
    get_json,
    receive,
    send,
    start_chain,  # noqa: F401 - fixture
    subscribe_candles,
    wall,  # noqa: F401 - fixture
)
from simulator import UpstreamSimulator

INDICATORS = "rsi:14,macd,bbands:20:2:2,obv,atr"
# TA-Lib's lookbacks plus ten periods for what smooths exponentially: rsi 14 + 140, macd 33 +
# 260, bbands 19 (a simple average), atr 14 + 140; obv carries all history and has no period:
# 300 settling candles (the longest).
WARMUP = 300


def expected_row(candles: list[dict[str, Any]]) -> dict[str, Any]:
    """The newest row of INDICATORS, by TA-Lib over exactly ``candles``."""
    high, low, close, volume = (np.array([c[f] for c in candles], float) for f in ("high", "low", "close", "volume"))
    macd, signal, hist = talib.MACD(close)
    upper, middle, lower = talib.BBANDS(close, 20, 2, 2)
    return {
        "timestamp": candles[-1]["timestamp"],
        "rsi_14": float(talib.RSI(close, 14)[-1]),
        "macd": {"macd": float(macd[-1]), "macdsignal": float(signal[-1]), "macdhist": float(hist[-1])},
        "bbands_20_2_2": {"upperband": float(upper[-1]), "middleband": float(middle[-1]),
                          "lowerband": float(lower[-1])},  # fmt: skip
        "obv": float(talib.OBV(close, volume)[-1]),
        "atr": float(talib.ATR(high, low, close)[-1]),
    }


async def served_row(service: ChainService) -> dict[str, Any]:
    """The newest row over what /api/ohlcv serves now (1 + warmup candles), live as it is."""
    answer = await get_json(service.url(f"/api/ohlcv?symbol=BTC&interval=1m&limit={1 + WARMUP}"))
    assert len(answer["data"]) == 1 + WARMUP
    assert answer["live"] is True  # watched and streamed: the newest candle is the stream's
    return expected_row(answer["data"])


def subscribe(indicators: str = INDICATORS, ident: int = 3, op: str = "subscribe") -> dict[str, Any]:
    return {"op": op, "channel": "indicators", "symbol": "BTC", "interval": "1m", "indicators": indicators,
            "id": ident}  # fmt: skip


async def subscribe_indicators(ws: aiohttp.ClientWebSocketResponse, indicators: str = INDICATORS) -> dict[str, Any]:
    """Subscribe; returns the snapshot."""
    await send(ws, subscribe(indicators))
    assert await receive(ws, 10.0) == {"type": "subscribed", **subscribe(indicators)}
    snapshot = await receive(ws, 10.0)
    assert snapshot["type"] == "snapshot", snapshot
    return snapshot


def row_message(kind: str, row: dict[str, Any], live: bool, message: dict[str, Any]) -> dict[str, Any]:
    """The message expected, with the fields the service stamps taken from ``message``."""
    expected = {"type": kind, "channel": "indicators", "symbol": "BTCUSDT", "interval": "1m",
                "indicators": INDICATORS, "source": "binance", "warmup": WARMUP, "data": [row], "live": live,
                "timestamp": message["timestamp"]}  # fmt: skip
    if "eventTime" in message:
        expected["eventTime"] = message["eventTime"]
    return expected


async def test_snapshot_then_a_row_per_candle_update_equal_to_talib_over_the_served_candles(
    start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock
) -> None:
    service = await start_chain()
    async with aiohttp.ClientSession() as http, http.ws_connect(service.ws_url) as ws:
        snapshot = await subscribe_indicators(ws)
        row = await served_row(service)
        assert row["timestamp"] == T0_MS
        assert snapshot == row_message("snapshot", row, True, snapshot)
        assert "eventTime" not in snapshot
        # Candles on the same connection: each candle update comes with its row right after.
        await subscribe_candles(ws)

        wall.advance(5)
        chain_sim.set_price("BTC", 70_123.0)
        assert await chain_sim.streams.push("binance") == 1
        candles = await receive(ws)
        assert (candles["channel"], candles["data"][0]["close"]) == ("candles", 70_123.0)
        update = await receive(ws)
        row = await served_row(service)
        assert (row["timestamp"], update["eventTime"]) == (T0_MS, int(wall.wall * 1000))
        assert update == row_message("update", row, True, update)
        assert row["rsi_14"] != snapshot["data"][0]["rsi_14"]  # the live candle moved it

        # A candle closes: the rows that follow end on the new candle's.
        wall.advance(30)
        chain_sim.set_price("BTC", 69_900.0)
        assert await chain_sim.streams.push("binance") == 2
        seen = await until_pong_after_candles(ws, 2)
        assert [(m["data"][0]["timestamp"], m["data"][0]["closed"]) for m in seen if m.get("channel") == "candles"] \
            == [(T0_MS, True), (T0_MS + MINUTE_MS, False)]
        rows = [m for m in seen if m.get("channel") == "indicators"]
        assert rows[-1]["data"][0]["timestamp"] == T0_MS + MINUTE_MS
        assert rows[-1] == row_message("update", await served_row(service), True, rows[-1])
        # The closing candle's row comes when the pump reads its update before the next candle
        # reached the live state, which is a race: the closed candle then has a row of its own
        # (at most one), or its update made the new candle's row (then none).
        assert len(rows) <= 2 and all(r["data"][0]["timestamp"] == T0_MS for r in rows[:-1])


async def until_pong_after_candles(ws: aiohttp.ClientWebSocketResponse, candles: int) -> list[dict[str, Any]]:
    """Messages until ``candles`` candle updates came, then those up to the answer to a ping
    sent then (a candle update's rows go out right after it, before any later answer)."""
    seen: list[dict[str, Any]] = []
    while len([m for m in seen if m.get("channel") == "candles"]) < candles:
        seen.append(await receive(ws))
    await send(ws, {"op": "ping", "id": 9})
    while not seen or seen[-1] != {"type": "pong", "id": 9}:
        seen.append(await receive(ws))
    return seen


async def test_bad_subscriptions_are_refused_like_candles_with_no_upstream_call(
    start_chain: StartChain, chain_sim: UpstreamSimulator
) -> None:
    service = await start_chain()
    cases = [
        ({"indicators": "nope:3"}, "INVALID_PARAMETER", "indicators", "unknown indicator function 'nope'"),
        ({"indicators": "rsi:0"}, "INVALID_PARAMETER", "indicators", "'rsi_0': TA-Lib refuses rsi with timeperiod=0"),
        ({"indicators": "rsi:14:3"}, "INVALID_PARAMETER", "indicators",
         "'rsi:14:3': rsi takes at most 1 parameters (timeperiod), got 2"),
        ({"indicators": None}, "INVALID_PARAMETER", "indicators", "indicators is required, e.g. indicators=rsi:14,ema:50"),
        ({"indicators": 14}, "INVALID_PARAMETER", "indicators", "indicators must be a string"),
        ({"symbol": "DOGE"}, "INVALID_SYMBOL", "symbol", None),
        ({"interval": "2m"}, "INVALID_INTERVAL", "interval", None),
        ({"limit": 5}, "INVALID_PARAMETER", "limit", "unknown field 'limit' for channel indicators"),
    ]  # fmt: skip
    before = len(chain_sim.requests)
    async with aiohttp.ClientSession() as http, http.ws_connect(service.ws_url) as ws:
        for ident, (change, code, field, message) in enumerate(cases):
            request = {**subscribe(ident=ident), **change}
            await send(ws, {k: v for k, v in request.items() if v is not None})
            error = await receive(ws)
            assert (error["type"], error["id"], error["error"]["code"], error["error"]["details"]) == (
                "error", ident, code, {"field": field}
            ), error
            if message is not None:
                assert error["error"]["message"].startswith(message), error
        await send(ws, subscribe(op="unsubscribe", ident=99))
        refused = await receive(ws)
        assert refused["error"]["message"] == f"not subscribed to indicators BTCUSDT 1m {INDICATORS!r}"
    assert len(chain_sim.requests) == before
    assert chain_sim.streams.log.subscriptions("binance") == []


async def test_unsubscribe_stops_the_rows(start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock) -> None:
    service = await start_chain()
    async with aiohttp.ClientSession() as http, http.ws_connect(service.ws_url) as ws:
        await subscribe_indicators(ws)
        await subscribe_candles(ws)
        await send(ws, subscribe(op="unsubscribe"))
        assert await receive(ws) == {"type": "unsubscribed", **subscribe(op="unsubscribe")}
        wall.advance(5)
        assert await chain_sim.streams.push("binance") == 1
        assert (await receive(ws))["channel"] == "candles"
        await send(ws, {"op": "ping", "id": 1})
        assert await receive(ws) == {"type": "pong", "id": 1}  # and no row


class CountingEngine(TalibEngine):
    """TA-Lib, counting computations (one per indicator per table)."""

    def __init__(self) -> None:
        self.computed = 0

    def compute(self, spec, candles):  # type: ignore[no-untyped-def]
        self.computed += 1
        return super().compute(spec, candles)


async def test_many_subscribers_of_the_same_indicators_cost_one_computation_per_update(
    start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock
) -> None:
    engine = CountingEngine()

    def counting(container: Container) -> None:
        container.application.indicator_engine.override(providers.Object(engine))

    service = await start_chain(prepare=counting)
    async with aiohttp.ClientSession() as http:
        clients = [await http.ws_connect(service.ws_url) for _ in range(3)]
        snapshots = [await subscribe_indicators(ws) for ws in clients]
        assert len({str(s["data"]) for s in snapshots}) == 1
        assert engine.computed == 5  # five indicators, once
        wall.advance(5)
        chain_sim.set_price("BTC", 70_500.0)
        assert await chain_sim.streams.push("binance") == 1
        updates = [await receive(ws) for ws in clients]
        assert [u["type"] for u in updates] == ["update"] * 3
        assert updates[0] == updates[1] == updates[2]
        assert engine.computed == 10
        for ws in clients:
            await ws.close()
