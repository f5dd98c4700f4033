"""The Kraken MarketStream over real WebSockets against the simulator's Kraken v2."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from random import Random
from typing import Any

import aiohttp
import pytest

from adapters.streams.kraken import kraken_stream, rfc3339_ms
from adapters.streams.market_stream import ShardedMarketStream
from adapters.streams.timing import StreamTiming
from domain.candle import Candle
from domain.interval import Interval
from domain.live import StreamKey
from domain.symbol import Symbol
from simulator import StreamSettings, UpstreamSimulator
from tests.fakes import FakeClock
from tests.integration.stream_support import (
    FAST,
    MovingClock,
    RecordingSink,
    eventually,
    exact,
    fast,
    running,
)
from tests.integration.support import NOW

BTC_USDT_1M = StreamKey.candles(Symbol("BTC", "USDT"), Interval("1m"))
BTC_USD_1M = StreamKey.candles(Symbol("BTC", "USD"), Interval("1m"))
ETH_TICKER = StreamKey.ticker(Symbol("ETH"))
MINUTE_OPEN_MS = 1_716_528_000_000  # 05:20:00, the 1m candle in progress at NOW


@pytest.fixture
def sim_clock() -> MovingClock:
    return MovingClock(NOW)


@pytest.fixture
async def sim(sim_clock: MovingClock) -> AsyncIterator[UpstreamSimulator]:
    settings = StreamSettings(heartbeat_interval=0.1)
    async with UpstreamSimulator(now=sim_clock, seed=7, stream_settings=settings) as simulator:
        yield simulator


def adapter(
    sim: UpstreamSimulator, session: aiohttp.ClientSession, timing: StreamTiming = FAST
) -> ShardedMarketStream:
    return kraken_stream(session, sim.ws_urls["kraken"], FakeClock(now=NOW), timing, Random(7))


async def rest_candles(http: aiohttp.ClientSession, sim: UpstreamSimulator) -> dict[int, Candle]:
    """Kraken's REST 1m candles of XBTUSD by open time (ms), parsed here."""
    url = sim.base_urls["kraken"] + "/0/public/OHLC"
    async with http.get(url, params={"pair": "XBTUSD", "interval": "1"}) as response:
        rows = (await response.json())["result"]["XXBTZUSD"]
    return {
        row[0] * 1000: Candle(
            row[0] * 1000, exact(row[1]), exact(row[2]), exact(row[3]), exact(row[4]), exact(row[6])
        )
        for row in rows
    }


def sent(sim: UpstreamSimulator) -> list[dict[str, Any]]:
    return [frame.payload for frame in sim.streams.log.frames("kraken", "text")]


async def test_usdt_and_usd_keys_share_the_usd_market(
    sim: UpstreamSimulator, session: aiohttp.ClientSession
) -> None:
    stream, sink = adapter(sim, session), RecordingSink()
    stream.want(frozenset({BTC_USDT_1M, BTC_USD_1M, ETH_TICKER}))
    async with running(stream, sink):
        await eventually(lambda: sink.live_keys() == {BTC_USDT_1M, BTC_USD_1M, ETH_TICKER})
        await eventually(lambda: len(sink.events) == 3)
        assert stream.status().streams == 3
    assert [(m["method"], m["params"]) for m in sent(sim)] == [
        ("subscribe", {"channel": "ohlc", "symbol": ["BTC/USD"], "interval": 1, "snapshot": True}),
        ("subscribe", {"channel": "ticker", "symbol": ["ETH/USD"], "snapshot": True}),
    ]
    newest = (await rest_candles(session, sim))[MINUTE_OPEN_MS]
    for key in (BTC_USDT_1M, BTC_USD_1M):
        [event] = sink.candles(key)
        assert (event.candle, event.closed, event.source, event.symbol) == (
            newest,
            False,
            "kraken",
            key.symbol,
        )
        assert event.event_time == int(NOW * 1000)  # the frame's own timestamp
    # live before the snapshot's events, for every key
    assert [kind for kind, _ in sink.calls][:2] == ["live", "event"]


async def test_a_candle_closes_once_when_the_next_interval_starts(
    sim: UpstreamSimulator, session: aiohttp.ClientSession, sim_clock: MovingClock
) -> None:
    stream, sink = adapter(sim, session), RecordingSink()
    stream.want(frozenset({BTC_USDT_1M}))
    async with running(stream, sink):
        await eventually(lambda: len(sink.events) == 1)  # the snapshot
        await sim.streams.push()
        sim_clock.now += 60
        await sim.streams.push()
        await sim.streams.push()
        sim_clock.now += 120  # two candles close at once
        await sim.streams.push()
        await eventually(lambda: len(sink.events) == 11)
    rest = await rest_candles(session, sim)
    candles = sink.candles(BTC_USDT_1M)
    assert [((e.candle.timestamp - MINUTE_OPEN_MS) // 60_000, e.closed) for e in candles] == [
        (0, False),  # the snapshot
        (0, False),
        (0, False),  # the last trade of 05:20: its final values
        (0, True),  # closed by the first update of 05:21
        (1, False),
        (1, False),
        (1, False),  # 05:21's final values, sent when the clock jumped
        (1, True),
        (2, False),
        (2, True),
        (3, False),
    ]
    closed = [e for e in candles if e.closed]
    assert [e.candle for e in closed] == [rest[MINUTE_OPEN_MS + n * 60_000] for n in range(3)]
    assert closed[0].event_time == int((NOW + 60) * 1000)


async def test_pairs_kraken_refuses_are_dropped_and_reported_unsupported(
    sim: UpstreamSimulator, session: aiohttp.ClientSession
) -> None:
    bnb = StreamKey.candles(Symbol("BNB"), Interval("1m"))
    # Generous timeouts: under a loaded machine a late ack must not reconnect and subscribe again
    # (this test counts the subscribe messages, it is not about timeouts).
    stream, sink = adapter(sim, session, fast(liveness_timeout=10.0, ack_timeout=10.0)), RecordingSink()
    assert stream.supports(bnb)
    stream.want(frozenset({BTC_USDT_1M, bnb}))
    async with running(stream, sink):
        await eventually(lambda: sink.lives)
        assert not stream.supports(bnb)
        await eventually(lambda: stream.status().state == "connected")
        assert stream.status().streams == 1
    assert sink.lives == [frozenset({BTC_USDT_1M})]
    assert [m["params"]["symbol"] for m in sent(sim)] == [["BNB/USD", "BTC/USD"]]


def test_what_kraken_cannot_stream(session: aiohttp.ClientSession) -> None:
    stream = kraken_stream(session, "ws://127.0.0.1:1/v2", FakeClock(now=NOW))
    assert not stream.supports(StreamKey.candles(Symbol("BTC"), Interval("1w")))  # Thursday weeks
    assert not stream.supports(StreamKey.candles(Symbol("BTC", "USDC"), Interval("1m")))
    assert stream.supports(StreamKey.candles(Symbol("MATIC"), Interval("4h")))


async def test_heartbeats_keep_a_quiet_connection(
    sim: UpstreamSimulator, session: aiohttp.ClientSession
) -> None:
    stream, sink = adapter(sim, session, fast(liveness_timeout=0.4)), RecordingSink()
    stream.want(frozenset({ETH_TICKER}))
    async with running(stream, sink):
        await asyncio.sleep(1.0)  # no data after the snapshot: heartbeats only
    assert sink.losses == [] and sim.streams.log.opened_count("kraken") == 1
    assert stream.messages >= 8  # status, ack, snapshot and heartbeats


async def test_ticker_figures(sim: UpstreamSimulator, session: aiohttp.ClientSession) -> None:
    sim.set_price("ETH", 3499.99)  # where last - change in floats would be 3498.1800000000003
    stream, sink = adapter(sim, session), RecordingSink()
    stream.want(frozenset({ETH_TICKER}))
    async with running(stream, sink):
        await eventually(lambda: sink.events)
    async with session.get(
        sim.base_urls["kraken"] + "/0/public/Ticker", params={"pair": "ETHUSD"}
    ) as response:
        rest = (await response.json())["result"]["XETHZUSD"]
    [ticker] = sink.tickers(ETH_TICKER)
    wire_change = Decimal(str(round(float(rest["c"][0]) - float(rest["o"]), 2)))
    assert ticker.last == exact(rest["c"][0])
    assert ticker.open_24h == float(Decimal(rest["c"][0]) - wire_change) == 3498.18  # last - change, exactly
    assert (ticker.high_24h, ticker.low_24h) == (exact(rest["h"][1]), exact(rest["l"][1]))
    assert ticker.volume_base == exact(rest["v"][1])
    assert ticker.volume_quote == exact(rest["v"][1]) * exact(rest["p"][1])
    assert ticker.event_time == int(NOW * 1000)  # no timestamp on the wire: the Clock port's time


def test_rfc3339_times_are_read_exactly() -> None:
    assert rfc3339_ms("2024-05-24T05:20:00.000000000Z") == MINUTE_OPEN_MS
    assert rfc3339_ms("2024-05-24T05:20:34.5Z") == MINUTE_OPEN_MS + 34_500
    assert rfc3339_ms("2024-05-24T05:20:34.123987654Z") == MINUTE_OPEN_MS + 34_123
