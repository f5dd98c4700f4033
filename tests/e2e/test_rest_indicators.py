"""GET /api/indicators over a real socket, against the upstream simulator (frozen market).

Expected values are TA-Lib's, computed here, independently, over the candles
``/api/ohlcv?limit=<limit + warmup>`` serves; bad input is refused before any upstream call.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import talib

from entrypoints.rest import schemas
from simulator import UpstreamSimulator
from tests.e2e import test_rest_support as support

simulator = support.simulator  # a frozen market: both reads see the same candles
start = support.start

OHLCV = "/api/ohlcv?symbol=BTC&interval=1h&limit={limit}"
INDICATORS = "/api/indicators?symbol=BTC&interval=1h&limit={limit}&indicators={indicators}"


async def get_json(service: Any, path: str, status: int = 200) -> dict[str, Any]:
    response = await service.get(path)
    body = await response.json()
    assert response.status == status, body
    return body


def columns(candles: list[dict[str, float]]) -> dict[str, np.ndarray]:
    """The candles' fields as TA-Lib takes them."""
    return {field: np.array([c[field] for c in candles], dtype=float)
            for field in ("open", "high", "low", "close", "volume")}  # fmt: skip


def number(value: float) -> float | None:
    """TA-Lib's NaN (no value) as the API's null."""
    return None if math.isnan(value) else float(value)


def expected_values(candles: list[dict[str, float]]) -> dict[str, Any]:
    """Every indicator of ``test_values_are_talibs_over_the_served_candles``, by TA-Lib directly:
    per key, one value (or dict of outputs) per candle."""
    c = columns(candles)
    o, h, low, close, v = c["open"], c["high"], c["low"], c["close"], c["volume"]
    macd, signal, hist = talib.MACD(close, fastperiod=12, slowperiod=26, signalperiod=9)
    upper, middle, lower = talib.BBANDS(close, timeperiod=20, nbdevup=2.0, nbdevdn=2.0)
    single = {
        "rsi_14": talib.RSI(close, timeperiod=14),
        "obv": talib.OBV(close, v),
        "mfi_10": talib.MFI(h, low, close, v, timeperiod=10),
        "atr": talib.ATR(h, low, close),  # TA-Lib's default period (14)
        "cdldoji": talib.CDLDOJI(o, h, low, close),
    }
    values: dict[str, Any] = {key: [number(x) for x in series] for key, series in single.items()}
    values["macd_12_26_9"] = [
        {"macd": number(m), "macdsignal": number(s), "macdhist": number(x)} for m, s, x in zip(macd, signal, hist)
    ]
    values["bbands_20_2_2"] = [
        {"upperband": number(u), "middleband": number(m), "lowerband": number(lo)}
        for u, m, lo in zip(upper, middle, lower)
    ]
    return values


async def test_values_are_talibs_over_the_served_candles(start: Any) -> None:
    service = await start()
    limit = 40
    asked = "rsi:14,macd:12:26:9,bbands:20:2:2,obv,mfi:10,atr,cdldoji"
    body = await get_json(service, INDICATORS.format(limit=limit, indicators=asked))

    assert body["warmup"] == 300  # obv: carries all history, no period to scale by (macd needs 293)
    assert (body["success"], body["symbol"], body["interval"], body["source"]) == (True, "BTCUSDT", "1h", "binance")
    assert body["count"] == limit == len(body["data"])
    assert body["stale"] is False and "dataTimestamp" not in body
    schemas.IndicatorsResponse.model_validate(body)
    candles = (await get_json(service, OHLCV.format(limit=limit + body["warmup"])))["data"]
    assert len(candles) == limit + body["warmup"]
    expected = expected_values(candles)

    keys = ["timestamp", "rsi_14", "macd_12_26_9", "bbands_20_2_2", "obv", "mfi_10", "atr", "cdldoji"]
    for i, row in enumerate(body["data"]):
        at = body["warmup"] + i
        assert list(row) == keys  # as requested, in the order requested
        assert row["timestamp"] == candles[at]["timestamp"]
        for key in keys[1:]:
            assert row[key] == expected[key][at], (key, i)
    first = body["data"][0]
    assert all(first[k] is not None for k in ("rsi_14", "obv", "mfi_10", "atr", "cdldoji"))
    assert None not in first["macd_12_26_9"].values() and None not in first["bbands_20_2_2"].values()
    # The pattern's integers arrive as numbers (TA-Lib says 0 or ±100), not strings.
    assert {row["cdldoji"] for row in body["data"]} <= {0.0, 100.0, -100.0}
    assert all(isinstance(row["cdldoji"], (int, float)) for row in body["data"])


async def test_warmup_is_exactly_the_lookback_for_an_indicator_that_forgets(start: Any) -> None:
    """sma:20 needs 19 candles before its first value, no more: the row before the first
    would have none, the first has one."""
    service = await start()
    body = await get_json(service, INDICATORS.format(limit=5, indicators="sma:20"))
    assert body["warmup"] == 19
    assert body["count"] == 5
    candles = (await get_json(service, OHLCV.format(limit=5 + 19)))["data"]
    sma = talib.SMA(columns(candles)["close"], timeperiod=20)
    assert math.isnan(sma[18]) and not math.isnan(sma[19])
    assert [row["timestamp"] for row in body["data"]] == [c["timestamp"] for c in candles[19:]]
    assert [row["sma_20"] for row in body["data"]] == [float(x) for x in sma[19:]]


async def test_every_row_has_values_and_the_window_ends_at_the_newest_candle(start: Any) -> None:
    service = await start()
    body = await get_json(service, INDICATORS.format(limit=100, indicators="ema:10,stoch,adx"))
    warmup = body["warmup"]
    assert warmup == max(9 + 10 * 10, 27 + 10 * 14)  # adx: lookback 27, unstable, period 14
    candles = (await get_json(service, OHLCV.format(limit=100 + warmup)))["data"]
    newest = (await get_json(service, OHLCV.format(limit=1)))["data"][-1]
    assert body["data"][0]["timestamp"] == candles[warmup]["timestamp"]  # the (warmup + 1)-th
    assert body["data"][-1]["timestamp"] == candles[-1]["timestamp"] == newest["timestamp"]
    for row in body["data"]:
        assert row["ema_10"] is not None and row["adx"] is not None
        assert set(row["stoch"]) == {"slowk", "slowd"} and None not in row["stoch"].values()


async def test_limit_defaults_to_100_and_timeframe_is_an_alias(start: Any) -> None:
    service = await start()
    body = await get_json(service, "/api/indicators?symbol=btc-usdt&timeframe=4h&indicators=sma:3")
    assert (body["count"], body["interval"], body["symbol"], body["warmup"]) == (100, "4h", "BTCUSDT", 2)
    assert len(body["data"]) == 100


TWENTY_ONE = ",".join(f"sma:{n}" for n in range(2, 23))


@pytest.mark.parametrize(
    ("query", "field", "named"),
    [
        ("limit=10&indicators=foo:14", "indicators", "foo"),  # unknown function
        ("limit=10&indicators=rsi:14,mavp", "indicators", "mavp"),  # takes a periods series too
        ("limit=10&indicators=rsi:14:3", "indicators", "rsi:14:3"),  # rsi has one parameter
        ("limit=10&indicators=rsi:14.5", "indicators", "rsi:14.5"),  # timeperiod is an integer
        ("limit=10&indicators=rsi:x", "indicators", "rsi:x"),
        ("limit=10&indicators=rsi:0", "indicators", "rsi_0"),  # TA-Lib refuses a period of 0 (named by key)
        ("limit=10&indicators=sma:20,bbands:20:2:2:14", "indicators", "bbands_20_2_2_14"),  # matype 0..13
        (f"limit=10&indicators={TWENTY_ONE}", "indicators", "21"),
        ("limit=10&indicators=rsi,rsi", "indicators", "rsi"),
        ("limit=10", "indicators", "indicators"),  # missing
        ("limit=10&indicators=", "indicators", "indicators"),
        ("limit=10&indicators=ema:1000", "indicators", "10000"),  # warm-up 10999 candles
        ("limit=0&indicators=rsi", "limit", "limit"),
        ("limit=1001&indicators=rsi", "limit", "limit"),
        ("limit=ten&indicators=rsi", "limit", "limit"),
        ("limit=5&limit=6&indicators=rsi", "limit", "limit"),
    ],
)
async def test_bad_input_is_refused_before_any_upstream_call(
    start: Any, simulator: UpstreamSimulator, query: str, field: str, named: str
) -> None:
    service = await start()
    before = len(simulator.requests)
    body = await get_json(service, f"/api/indicators?symbol=BTC&interval=1h&{query}", status=400)
    assert body["error"]["code"] == "INVALID_PARAMETER"
    assert body["error"]["details"] == {"field": field}
    assert named in body["error"]["message"], body["error"]["message"]
    assert len(simulator.requests) == before  # no upstream call at all


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [("symbol=DOGE&indicators=rsi", "INVALID_SYMBOL", "symbol"),
     ("symbol=BTC&interval=7m&indicators=rsi", "INVALID_INTERVAL", "interval")],
)  # fmt: skip
async def test_bad_market_is_refused_like_ohlcv(
    start: Any, simulator: UpstreamSimulator, query: str, code: str, field: str
) -> None:
    service = await start()
    before = len(simulator.requests)
    body = await get_json(service, f"/api/indicators?{query}", status=400)
    assert (body["error"]["code"], body["error"]["details"]) == (code, {"field": field})
    assert len(simulator.requests) == before


async def test_indicators_count_against_the_ohlcv_limit(start: Any) -> None:
    service = await start(rate_limit_enabled=True, rate_limit_ohlcv=2)
    assert (await service.get(INDICATORS.format(limit=5, indicators="rsi"))).status == 200
    assert (await service.get(OHLCV.format(limit=5))).status == 200
    refused = await service.get(INDICATORS.format(limit=5, indicators="rsi"))
    assert refused.status == 429
    assert (await refused.json())["error"]["details"] == {"limit": 2, "group": "ohlcv"}


async def test_the_document_lists_the_route_the_syntax_and_every_function(start: Any) -> None:
    service = await start()
    document = await get_json(service, "/openapi.json")
    operation = document["paths"]["/api/indicators"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert set(params) == {"symbol", "interval", "timeframe", "limit", "indicators"}
    assert params["indicators"]["required"] is True and params["symbol"]["required"] is True
    assert params["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    functions = params["indicators"]["x-indicator-functions"]
    # Every TA-Lib function of candle fields: the engine's own list, not one kept by hand.
    by_talib = {name.lower() for name in talib.get_functions()}
    assert {"rsi", "macd", "bbands", "obv", "mfi", "atr", "adx", "stoch", "cdldoji"} <= set(functions) <= by_talib
    assert "mavp" not in functions and functions == sorted(functions)
    assert ", ".join(f"`{name}`" for name in functions) in params["indicators"]["description"]
    assert "rsi:14" in operation["description"] and "warmup" in operation["description"]
    ok = operation["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": "#/components/schemas/IndicatorsResponse"}
    assert set(ok["examples"]) == {"fresh", "stale"}
    assert set(operation["responses"]) == {"200", "400", "429", "503", "500"}
    row = document["components"]["schemas"]["IndicatorRow"]
    assert row["required"] == ["timestamp"] and "additionalProperties" in row
