"""Self-tests of the upstream simulator: wire formats, error forms, faults, recording."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from simulator import UpstreamSimulator

#: Friday 2024-05-24 05:20:34.5 UTC.
NOW = 1_716_528_034.5
HOUR_MS = 3_600_000
KEY = {"Authorization": "Bearer test-key"}


@pytest.fixture
async def sim() -> AsyncIterator[UpstreamSimulator]:
    simulator = UpstreamSimulator(now=lambda: NOW, seed=7)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as session:
        yield session


async def fetch(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None, **params: str
) -> tuple[int, Any, CIMultiDictProxy[str]]:
    """Status, body (JSON when it parses, else text) and headers."""
    async with http.get(url, params=params, headers=headers) as response:
        text = await response.text()
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = text
        return response.status, body, response.headers


def binance(sim: UpstreamSimulator, path: str) -> str:
    return sim.base_urls["binance"] + path


# -- Binance ---------------------------------------------------------------------------


async def test_base_urls_follow_the_service_settings(sim: UpstreamSimulator) -> None:
    root = sim.root
    assert root.startswith("http://127.0.0.1:")
    assert sim.base_urls == {
        "binance": f"{root}/binance",
        "kraken": f"{root}/kraken",
        "coingecko": f"{root}/coingecko/api/v3",
        "coincap": f"{root}/coincap/v3",
        "alternative_me": f"{root}/alternative_me",
    }


async def test_binance_klines_rows(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    status, rows, headers = await fetch(
        http, binance(sim, "/api/v3/klines"), symbol="BTCUSDT", interval="1h", limit="24"
    )
    assert status == 200 and len(rows) == 24
    assert headers["X-MBX-USED-WEIGHT-1M"] == "2"
    for row in rows:
        assert len(row) == 12 and isinstance(row[0], int) and isinstance(row[6], int)
        assert all(isinstance(row[i], str) for i in (1, 2, 3, 4, 5, 7, 9, 10, 11))
        assert isinstance(row[8], int)
        o, h, low, c, v = (float(x) for x in row[1:6])
        assert low <= min(o, c) <= max(o, c) <= h and v > 0
        assert row[6] == row[0] + HOUR_MS - 1
        assert row[1].split(".")[1].__len__() == 8
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    assert rows[-1][0] <= NOW * 1000 < rows[-1][6]  # the last row is in progress
    assert float(rows[-1][4]) == pytest.approx(sim.price("BTC"), rel=1e-6)


async def test_binance_klines_limits_and_start_time(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    url = binance(sim, "/api/v3/klines")
    _, default, _ = await fetch(http, url, symbol="ETHUSDT", interval="1m")
    _, most, _ = await fetch(http, url, symbol="ETHUSDT", interval="1m", limit="1000")
    assert (len(default), len(most)) == (500, 1000)
    start = 1_716_336_000_000  # 2024-05-22 00:00
    _, rows, _ = await fetch(http, url, symbol="ETHUSDT", interval="1h", startTime=str(start), limit="5")
    assert [r[0] for r in rows] == [start + i * HOUR_MS for i in range(5)]
    _, again, _ = await fetch(http, url, symbol="ETHUSDT", interval="1h", startTime=str(start), limit="5")
    assert again == rows
    _, weeks, _ = await fetch(http, url, symbol="BTCUSDT", interval="1w", limit="3")
    assert all(time.gmtime(r[0] / 1000).tm_wday == 0 for r in weeks)  # Monday


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"symbol": "MATICUSDT", "interval": "1h"}, -1121),
        ({"symbol": "BTCUSDT", "interval": "1H"}, -1120),
        ({"interval": "1h"}, -1102),
        ({"symbol": "BTCUSDT"}, -1102),
        ({"symbol": "BTCUSDT", "interval": "1h", "limit": "1001"}, -1130),
        ({"symbol": "btcusdt", "interval": "1h"}, -1100),
    ],
)
async def test_binance_klines_errors(
    sim: UpstreamSimulator, http: aiohttp.ClientSession, params: dict[str, Any], code: int
) -> None:
    status, body, headers = await fetch(http, binance(sim, "/api/v3/klines"), **params)
    assert status == 400 and body["code"] == code and isinstance(body["msg"], str)
    assert "X-MBX-USED-WEIGHT-1M" in headers


async def test_binance_tickers(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    url = binance(sim, "/api/v3/ticker/24hr")
    status, many, _ = await fetch(http, url, symbols='["BTCUSDT","POLUSDT"]')
    assert status == 200 and [t["symbol"] for t in many] == ["BTCUSDT", "POLUSDT"]
    for key in ("lastPrice", "priceChangePercent", "volume", "quoteVolume", "weightedAvgPrice"):
        float(many[0][key])
        assert isinstance(many[0][key], str)
    assert many[0]["closeTime"] - many[0]["openTime"] == 86_400_000
    _, one, _ = await fetch(http, url, symbol="ETHUSDC")
    assert one["symbol"] == "ETHUSDC"
    status, body, _ = await fetch(http, url, symbols='["BTCUSDT","MATICUSDT"]')
    assert (status, body["code"]) == (400, -1121)
    status, body, _ = await fetch(http, url, symbols='["BTCUSDT", "ETHUSDT"]')  # json.dumps' space
    assert (status, body["code"]) == (400, -1100)
    _, _, headers = await fetch(http, url)
    assert headers["X-MBX-USED-WEIGHT-1M"] == str(2 + 2 + 2 + 2 + 80)
    status, body, _ = await fetch(http, binance(sim, "/api/v3/ping"))
    assert (status, body) == (200, {})


async def test_binance_weight_limit_answers_429() -> None:
    async with (
        UpstreamSimulator(now=lambda: NOW, binance_weight_limit=4) as sim,
        aiohttp.ClientSession() as http,
    ):
        statuses = [
            (await fetch(http, binance(sim, "/api/v3/klines"), symbol="BTCUSDT", interval="1m"))[0]
            for _ in range(3)
        ]
        _, body, headers = await fetch(http, binance(sim, "/api/v3/ping"))
    assert statuses == [200, 200, 429]
    assert body["code"] == -1003 and int(headers["Retry-After"]) > 0


# -- Kraken ----------------------------------------------------------------------------


async def test_kraken_ohlc(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_urls["kraken"] + "/0/public/OHLC"
    status, body, _ = await fetch(http, url, pair="XBTUSD", interval="60")
    assert status == 200 and body["error"] == []
    rows = body["result"]["XXBTZUSD"]
    assert len(rows) == 720 and isinstance(body["result"]["last"], int)
    assert body["result"]["last"] == rows[-2][0] and rows[-1][0] <= NOW < rows[-1][0] + 3600
    for row in rows[-5:]:
        assert len(row) == 8 and isinstance(row[0], int) and isinstance(row[7], int)
        o, h, low, c, vwap, v = (float(x) for x in row[1:7])
        assert low <= min(o, c, vwap) and max(o, c, vwap) <= h and v > 0
    since = rows[-3][0]
    _, recent, _ = await fetch(http, url, pair="XXBTZUSD", interval="60", since=str(since))
    assert [r[0] for r in recent["result"]["XXBTZUSD"]] == [rows[-2][0], rows[-1][0]]
    _, old, _ = await fetch(http, url, pair="SOLUSD", interval="1440", since="0")
    assert len(old["result"]["SOLUSD"]) == 720
    _, weeks, _ = await fetch(http, url, pair="ETHUSD", interval="10080")
    assert all(time.gmtime(r[0]).tm_wday == 3 for r in weeks["result"]["XETHZUSD"])  # Thursday


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"pair": "BTCXYZ", "interval": "60"}, "EQuery:Unknown asset pair"),
        ({"pair": "XBTUSD", "interval": "2"}, "EGeneral:Invalid arguments"),
        ({"interval": "60"}, "EGeneral:Invalid arguments"),
    ],
)
async def test_kraken_errors_come_with_http_200(
    sim: UpstreamSimulator, http: aiohttp.ClientSession, params: dict[str, Any], error: str
) -> None:
    status, body, _ = await fetch(http, sim.base_urls["kraken"] + "/0/public/OHLC", **params)
    assert (status, body) == (200, {"error": [error]})


async def test_kraken_last_as_string_and_time(http: aiohttp.ClientSession) -> None:
    async with UpstreamSimulator(now=lambda: NOW, kraken_last_as_string=True) as sim:
        base = sim.base_urls["kraken"]
        _, body, _ = await fetch(http, base + "/0/public/OHLC", pair="XBTUSDT", interval="5")
        assert isinstance(body["result"]["last"], str) and "XBTUSDT" in body["result"]
        _, clock, _ = await fetch(http, base + "/0/public/Time")
    assert clock == {
        "error": [],
        "result": {"unixtime": int(NOW), "rfc1123": "Fri, 24 May 24 05:20:34 +0000"},
    }


async def test_binance_and_kraken_share_one_market(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    _, klines, _ = await fetch(
        http, binance(sim, "/api/v3/klines"), symbol="XRPUSDT", interval="1h", limit="3"
    )
    _, ohlc, _ = await fetch(http, sim.base_urls["kraken"] + "/0/public/OHLC", pair="XRPUSD", interval="60")
    by_time = {row[0]: row for row in ohlc["result"]["XXRPZUSD"]}
    for kline in klines:
        bar = by_time[kline[0] // 1000]
        for b, k in zip(bar[1:5], kline[1:5]):
            assert float(b) == pytest.approx(float(k), rel=2e-5)


# -- CoinGecko -------------------------------------------------------------------------


async def test_coingecko_simple_price(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_urls["coingecko"] + "/simple/price"
    status, body, _ = await fetch(
        http,
        url,
        headers={"x-cg-demo-api-key": "demo-key"},
        ids="bitcoin,polygon-ecosystem-token,no-such-coin",
        vs_currencies="usd",
        include_market_cap="true",
        include_24hr_vol="true",
        include_24hr_change="true",
        include_last_updated_at="true",
    )
    assert status == 200 and set(body) == {"bitcoin", "polygon-ecosystem-token"}
    assert set(body["bitcoin"]) == {
        "usd",
        "usd_market_cap",
        "usd_24h_vol",
        "usd_24h_change",
        "last_updated_at",
    }
    assert body["bitcoin"]["last_updated_at"] == int(NOW)
    _, bare, _ = await fetch(http, url, ids="ethereum", vs_currencies="usd")
    assert set(bare["ethereum"]) == {"usd"}
    assert sim.requests[0].headers["X-CG-Demo-Api-Key"] == "demo-key"
    status, body, _ = await fetch(http, url, ids="bitcoin", vs_currencies="usdt")
    assert (status, body) == (400, {"error": "invalid vs_currency"})
    status, body, _ = await fetch(http, url, ids="nothing", vs_currencies="usd")
    assert (status, body) == (200, {})


async def test_coingecko_markets_global_ping(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    base = sim.base_urls["coingecko"]
    _, rows, _ = await fetch(
        http, base + "/coins/markets", vs_currency="usd", ids="binancecoin,avalanche-2,tron"
    )
    assert {r["id"]: r["name"] for r in rows} == {
        "binancecoin": "BNB",
        "avalanche-2": "Avalanche",
        "tron": "TRON",
    }
    assert [r["market_cap_rank"] for r in rows] == sorted(r["market_cap_rank"] for r in rows)
    assert rows[0]["symbol"] == "bnb" and rows[0]["last_updated"] == "2024-05-24T05:20:34.000Z"
    _, body, _ = await fetch(http, base + "/global")
    data = body["data"]
    assert data["total_market_cap"]["usd"] > 0 and 40 < data["market_cap_percentage"]["btc"] < 70
    assert data["updated_at"] == int(NOW)
    assert (await fetch(http, base + "/ping"))[1] == {"gecko_says": "(V3) To the Moon!"}


# -- CoinCap ---------------------------------------------------------------------------


async def test_coincap_assets(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    base = sim.base_urls["coincap"]
    status, body, _ = await fetch(http, base + "/assets", headers=KEY, ids="bitcoin,polygon,dogecoin")
    assert status == 200 and body["timestamp"] == int(NOW * 1000)
    assert [a["id"] for a in body["data"]] == ["bitcoin", "dogecoin", "polygon"]  # by rank
    for asset in body["data"]:
        assert set(asset) >= {
            "id",
            "rank",
            "symbol",
            "name",
            "supply",
            "maxSupply",
            "marketCapUsd",
            "volumeUsd24Hr",
            "priceUsd",
            "changePercent24Hr",
            "vwap24Hr",
            "explorer",
        }
        assert all(isinstance(asset[k], str) for k in ("rank", "supply", "priceUsd", "changePercent24Hr"))
    assert body["data"][1]["maxSupply"] is None
    status, one, _ = await fetch(http, base + "/assets/ethereum", apiKey="k")
    assert status == 200 and one["data"]["symbol"] == "ETH"
    status, missing, _ = await fetch(http, base + "/assets/nope", apiKey="k")
    assert status == 404 and "error" in missing


async def test_coincap_needs_a_key(http: aiohttp.ClientSession) -> None:
    async with UpstreamSimulator(now=lambda: NOW, coincap_api_key="right") as sim:
        url = sim.base_urls["coincap"] + "/assets"
        assert (await fetch(http, url))[0] == 401
        status, body, _ = await fetch(http, url, apiKey="wrong")
        assert status == 401 and isinstance(body["error"], str)
        assert (await fetch(http, url, headers={"Authorization": "Bearer right"}))[0] == 200


# -- alternative.me --------------------------------------------------------------------


async def test_fear_and_greed(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    base = sim.base_urls["alternative_me"]
    status, body, _ = await fetch(http, base + "/fng/", limit="10")
    assert status == 200 and body["name"] == "Fear and Greed Index" and body["metadata"] == {"error": None}
    days = body["data"]
    assert [int(d["timestamp"]) for d in days] == [1_716_508_800 - i * 86_400 for i in range(10)]
    bands = [(24, "Extreme Fear"), (46, "Fear"), (54, "Neutral"), (75, "Greed"), (100, "Extreme Greed")]
    for day in days:
        assert all(isinstance(v, str) for v in day.values())
        value = int(day["value"])
        assert day["value_classification"] == next(label for top, label in bands if value <= top)
    assert days[0]["time_until_update"] == str(int(1_716_595_200 - NOW))
    assert "time_until_update" not in days[1]
    _, latest, _ = await fetch(http, base + "/fng")
    assert latest["data"] == [days[0]]
    _, everything, _ = await fetch(http, base + "/fng/", limit="0")
    assert len(everything["data"]) > 2000


# -- one market for everybody ----------------------------------------------------------


async def test_prices_agree_across_providers(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    sim.set_price("BTC", 70_000)
    sim.set_price("POL", 0.4)
    urls = sim.base_urls
    _, tickers, _ = await fetch(
        http, urls["binance"] + "/api/v3/ticker/24hr", symbols='["BTCUSDT","POLUSDT"]'
    )
    _, kraken, _ = await fetch(http, urls["kraken"] + "/0/public/Ticker", pair="XBTUSD,POLUSD")
    _, gecko, _ = await fetch(
        http, urls["coingecko"] + "/simple/price", ids="bitcoin,matic-network", vs_currencies="usd"
    )
    _, cap, _ = await fetch(http, urls["coincap"] + "/assets", headers=KEY, ids="bitcoin,polygon")
    caps = {a["id"]: float(a["priceUsd"]) for a in cap["data"]}
    for true, quotes in (
        (
            70_000,
            [
                tickers[0]["lastPrice"],
                kraken["result"]["XXBTZUSD"]["c"][0],
                gecko["bitcoin"]["usd"],
                caps["bitcoin"],
            ],
        ),
        (
            0.4,
            [
                tickers[1]["lastPrice"],
                kraken["result"]["POLUSD"]["c"][0],
                gecko["matic-network"]["usd"],
                caps["polygon"],
            ],
        ),
    ):
        for quote in quotes:
            assert float(quote) == pytest.approx(true, rel=1e-3)


# -- faults ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "path", "params", "status", "check"),
    [
        (
            "binance",
            "/api/v3/klines",
            {"symbol": "BTCUSDT", "interval": "1h"},
            429,
            lambda body, headers: body["code"] == -1003 and headers["Retry-After"] == "30",
        ),
        (
            "kraken",
            "/0/public/OHLC",
            {"pair": "XBTUSD"},
            200,
            lambda body, headers: body == {"error": ["EGeneral:Too many requests"]},
        ),
        (
            "coingecko",
            "/ping",
            {},
            429,
            lambda body, headers: body["status"]["error_code"] == 429 and headers["retry-after"] == "30",
        ),
        (
            "coincap",
            "/assets",
            {"apiKey": "k"},
            429,
            lambda body, headers: body == {"error": "rate limit exceeded"} and "Retry-After" in headers,
        ),
        ("alternative_me", "/fng/", {}, 429, lambda body, headers: body == "Too Many Requests"),
    ],
)
async def test_rate_limit_in_each_providers_form(
    sim: UpstreamSimulator,
    http: aiohttp.ClientSession,
    provider: str,
    path: str,
    params: dict[str, Any],
    status: int,
    check: Any,
) -> None:
    sim.set_fault(provider, "rate_limit")
    got_status, body, headers = await fetch(http, sim.base_urls[provider] + path, **params)
    assert got_status == status and check(body, headers)


async def test_server_errors_and_html(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    urls = sim.base_urls
    sim.set_fault("binance", "http_500")
    sim.set_fault("kraken", "http_503")
    sim.set_fault("coingecko", "html", status=520)
    status, body, _ = await fetch(http, urls["binance"] + "/api/v3/ping")
    assert (status, body["code"]) == (500, -1000)
    status, page, headers = await fetch(http, urls["kraken"] + "/0/public/Time")
    assert status == 503 and headers["Content-Type"].startswith("text/html") and "cloudflare" in page.lower()
    status, page, _ = await fetch(http, urls["coingecko"] + "/ping")
    assert status == 520 and page.startswith("<!DOCTYPE html>")


async def test_binance_blocks(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    url = binance(sim, "/api/v3/ping")
    sim.set_fault("binance", "ban_418", times=1, retry_after=60)
    sim.set_fault("binance", "geo_451", times=1)
    status, body, _ = await fetch(http, url)  # the newest fault answers first
    assert status == 451 and body["code"] == 0 and "restricted location" in body["msg"]
    status, body, headers = await fetch(http, url)
    assert status == 418 and str(int((NOW + 60) * 1000)) in body["msg"] and headers["Retry-After"] == "60"
    sim.set_fault("binance", "waf_403", times=1)
    assert (await fetch(http, url))[0] == 403
    assert (await fetch(http, url))[:2] == (200, {})


async def test_body_faults(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    urls = sim.base_urls
    sim.set_fault("kraken", "malformed_json", times=1)
    async with http.get(urls["kraken"] + "/0/public/OHLC", params={"pair": "ETHUSD"}) as response:
        assert response.status == 200 and response.content_type == "application/json"
        with pytest.raises(ValueError):
            json.loads(await response.text())
    sim.set_fault("kraken", "empty", times=1)
    _, body, _ = await fetch(http, urls["kraken"] + "/0/public/OHLC", pair="ETHUSD")
    assert body == {"error": [], "result": {"XETHZUSD": [], "last": 0}}
    sim.set_fault("kraken", "kraken_error", times=1)
    assert (await fetch(http, urls["kraken"] + "/0/public/Time"))[1] == {"error": ["EService:Unavailable"]}
    sim.set_fault("coincap", "deprecated_v2")
    status, body, _ = await fetch(http, urls["coincap"] + "/assets", headers=KEY)
    assert status == 429 and "deprecating" in body["data"]["message"]
    sim.set_fault("alternative_me", "metadata_error", message="boom")
    _, body, _ = await fetch(http, urls["alternative_me"] + "/fng/")
    assert body["data"] == [] and body["metadata"] == {"error": "boom"}
    sim.set_fault("binance", "wrong_shape")
    _, body, _ = await fetch(http, binance(sim, "/api/v3/ticker/24hr"), symbols='["BTCUSDT"]')
    assert isinstance(body, dict)
    sim.set_fault("kraken", "last_as_string", times=1)
    _, body, _ = await fetch(http, urls["kraken"] + "/0/public/OHLC", pair="ETHUSD")
    assert isinstance(body["result"]["last"], str)


async def test_skew_moves_one_provider(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    sim.set_fault("binance", "skew", factor=1.1)
    _, ticker, _ = await fetch(http, binance(sim, "/api/v3/ticker/24hr"), symbol="BTCUSDT")
    _, klines, _ = await fetch(
        http, binance(sim, "/api/v3/klines"), symbol="BTCUSDT", interval="1m", limit="1"
    )
    _, gecko, _ = await fetch(
        http, sim.base_urls["coingecko"] + "/simple/price", ids="bitcoin", vs_currencies="usd"
    )
    assert float(ticker["lastPrice"]) == pytest.approx(1.1 * 65_000, rel=1e-3)
    assert float(klines[0][4]) == pytest.approx(1.1 * 65_000, rel=1e-6)
    assert gecko["bitcoin"]["usd"] == pytest.approx(65_000, rel=1e-3)


async def test_times_and_path_filters(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    sim.set_fault("binance", "http_503", path="/api/v3/klines", times=2)
    klines: dict[str, Any] = {"symbol": "BTCUSDT", "interval": "1h", "limit": "1"}
    assert (await fetch(http, binance(sim, "/api/v3/ping")))[0] == 200
    statuses = [(await fetch(http, binance(sim, "/api/v3/klines"), **klines))[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert sim.faults() == []
    sim.set_fault("coincap", "empty", path="/assets/*")
    assert (await fetch(http, sim.base_urls["coincap"] + "/assets/bitcoin", headers=KEY))[1]["data"] == []
    assert len((await fetch(http, sim.base_urls["coincap"] + "/assets", headers=KEY))[1]["data"]) == 15


async def test_unknown_faults_are_refused(sim: UpstreamSimulator) -> None:
    with pytest.raises(ValueError):
        sim.set_fault("kraken", "ban_418")
    with pytest.raises(ValueError):
        sim.set_fault("bitstamp", "http_500")
    with pytest.raises(ValueError):
        sim.set_fault("coingecko", "skew")  # needs a factor
    with pytest.raises(ValueError):
        sim.set_fault("binance", "http_500", times=0)


async def test_slow_timeout_and_reset(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    url = sim.base_urls["alternative_me"] + "/fng/"
    sim.set_fault("alternative_me", "slow", delay=0.2, times=1)
    started = time.monotonic()
    assert (await fetch(http, url))[0] == 200
    assert time.monotonic() - started >= 0.2
    sim.set_fault("alternative_me", "timeout", times=1)
    with pytest.raises(asyncio.TimeoutError):
        await http.get(url, timeout=aiohttp.ClientTimeout(total=0.2))
    # aiohttp silently retries a GET once when a reused connection drops: hence times=2.
    sim.set_fault("alternative_me", "connection_reset", times=2)
    with pytest.raises(aiohttp.ClientConnectionError):
        await fetch(http, url)
    assert (await fetch(http, url))[0] == 200
    assert sim.calls("alternative_me") == 5


async def test_stop_is_quick_with_a_hanging_request(http: aiohttp.ClientSession) -> None:
    sim = UpstreamSimulator(now=lambda: NOW)
    await sim.start()
    sim.set_fault("binance", "timeout")
    pending = asyncio.create_task(fetch(http, binance(sim, "/api/v3/ping")))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await sim.stop()
    assert time.monotonic() - started < 2
    with pytest.raises(aiohttp.ClientError):
        await pending


# -- recording, control API, isolation -------------------------------------------------


async def test_calls_and_requests(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    sim.set_fault("coingecko", "http_500", times=1)
    for _ in range(2):
        await fetch(http, sim.base_urls["coingecko"] + "/ping", headers={"x-cg-pro-api-key": "pro"})
    await fetch(http, binance(sim, "/api/v3/klines"), symbol="BTCUSDT", interval="1d")
    assert sim.calls("coingecko") == 2 and sim.calls("coingecko", "/ping") == 2
    assert sim.calls("binance", "/api/v3/klines") == 1 and sim.calls("kraken") == 0
    last = sim.requests[-1]
    assert (last.provider, last.path, last.query) == (
        "binance",
        "/api/v3/klines",
        {"symbol": "BTCUSDT", "interval": "1d"},
    )
    assert sim.requests[0].headers["x-cg-pro-api-key"] == "pro"
    sim.reset_calls()
    assert sim.calls("coingecko") == 0 and sim.requests == []


async def test_control_api(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    control = sim.root + "/__sim"
    async with http.post(
        control + "/faults",
        json={"provider": "kraken", "kind": "kraken_error", "times": 1, "message": "EService:Busy"},
    ) as response:
        assert response.status == 201
    async with http.post(control + "/faults", json={"provider": "kraken", "kind": "nope"}) as response:
        assert response.status == 400
    assert (await fetch(http, sim.base_urls["kraken"] + "/0/public/Time"))[1] == {"error": ["EService:Busy"]}
    async with http.post(control + "/faults", json={"provider": "binance", "kind": "http_500"}) as response:
        assert response.status == 201
    async with http.delete(control + "/faults") as response:
        assert (await response.json()) == {"cleared": 1}
    async with http.post(control + "/prices", json={"ETH": 4000}) as response:
        assert response.status == 200
    assert sim.price("ETH") == 4000
    _, counts, _ = await fetch(http, control + "/calls")
    assert counts == {"binance": 0, "kraken": 1, "coingecko": 0, "coincap": 0, "alternative_me": 0}
    _, log, _ = await fetch(http, control + "/requests")
    assert [(entry["provider"], entry["path"]) for entry in log] == [("kraken", "/0/public/Time")]
    async with http.post(control + "/reset") as response:
        assert response.status == 200
    assert sim.calls("kraken") == 0 and sim.price("ETH") == 3_500


async def test_two_simulators_side_by_side(http: aiohttp.ClientSession) -> None:
    async with UpstreamSimulator(now=lambda: NOW) as first, UpstreamSimulator(now=lambda: NOW) as second:
        assert first.root != second.root
        first.set_fault("binance", "http_500")
        first.set_price("BTC", 10_000)
        params: dict[str, Any] = {"symbol": "BTCUSDT", "interval": "4h", "limit": "50"}
        status_a, _, _ = await fetch(http, binance(first, "/api/v3/klines"), **params)
        status_b, rows_b, _ = await fetch(http, binance(second, "/api/v3/klines"), **params)
        assert (status_a, status_b) == (500, 200)
        assert float(rows_b[-1][4]) == 65_000
        assert (first.calls("binance"), second.calls("binance")) == (1, 1)
        async with UpstreamSimulator(now=lambda: NOW) as third:
            assert (await fetch(http, binance(third, "/api/v3/klines"), **params))[1] == rows_b
