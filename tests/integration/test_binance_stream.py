"""The Binance MarketStream over real WebSockets against the simulator's Binance streams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from random import Random
from typing import Any

import aiohttp
import pytest

from adapters.streams.binance import binance_stream
from adapters.streams.market_stream import ShardedMarketStream
from adapters.streams.timing import StreamTiming
from domain.candle import Candle
from domain.interval import Interval
from domain.live import CandleEvent, StreamKey, StreamStatus, TickerEvent
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

BTC, ETH = Symbol("BTC"), Symbol("ETH")
BTC_1M = StreamKey.candles(BTC, Interval("1m"))
ETH_1H = StreamKey.candles(ETH, Interval("1h"))
BTC_TICKER = StreamKey.ticker(BTC)
MINUTE_OPEN_MS = 1_716_528_000_000  # 05:20:00, the 1m candle in progress at NOW


@pytest.fixture
def sim_clock() -> MovingClock:
    return MovingClock(NOW)


@pytest.fixture
async def sim(sim_clock: MovingClock) -> AsyncIterator[UpstreamSimulator]:
    async with UpstreamSimulator(now=sim_clock, seed=7) as simulator:
        yield simulator


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(now=NOW)


def adapter(
    sim: UpstreamSimulator,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    timing: StreamTiming = FAST,
    **options: Any,
) -> ShardedMarketStream:
    return binance_stream(session, sim.ws_urls["binance"], clock, timing, Random(7), **options)


def subscribes(sim: UpstreamSimulator) -> list[dict[str, Any]]:
    return [
        f.payload for f in sim.streams.log.frames("binance", "text") if f.payload.get("method") == "SUBSCRIBE"
    ]


async def rest_candle(http: aiohttp.ClientSession, sim: UpstreamSimulator, open_ms: int) -> Candle:
    """The candle opening at ``open_ms`` as Binance's REST klines serve it, parsed here."""
    url = sim.base_urls["binance"] + "/api/v3/klines"
    params = {"symbol": "BTCUSDT", "interval": "1m", "startTime": str(open_ms), "limit": "1"}
    async with http.get(url, params=params) as response:
        row = (await response.json())[0]
    return Candle(row[0], exact(row[1]), exact(row[2]), exact(row[3]), exact(row[4]), exact(row[5]))


async def test_one_subscribe_for_many_keys_then_parsed_events(
    sim: UpstreamSimulator, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    stream, sink = adapter(sim, session, clock), RecordingSink()
    stream.want(frozenset({BTC_1M, ETH_1H, BTC_TICKER}))
    async with running(stream, sink):
        await eventually(lambda: sink.lives)
        assert sink.lives == [frozenset({BTC_1M, ETH_1H, BTC_TICKER})]
        await eventually(lambda: stream.status().state == "connected")
        assert stream.status() == StreamStatus("binance", "connected", 3, NOW, 0)
        await sim.streams.push()
        await eventually(lambda: len(sink.events) == 3)
    assert len(subscribes(sim)) == 1
    assert sorted(subscribes(sim)[0]["params"]) == [
        "btcusdt@kline_1m",
        "btcusdt@miniTicker",
        "ethusdt@kline_1h",
    ]
    [candle] = sink.candles(BTC_1M)
    assert candle == CandleEvent(
        BTC,
        Interval("1m"),
        await rest_candle(session, sim, MINUTE_OPEN_MS),
        False,
        int(NOW * 1000),
        "binance",
    )
    [ticker] = sink.tickers(BTC_TICKER)
    async with session.get(
        sim.base_urls["binance"] + "/api/v3/ticker/24hr", params={"symbol": "BTCUSDT"}
    ) as r:
        rest = await r.json()
    assert ticker == TickerEvent(
        BTC,
        exact(rest["lastPrice"]),
        exact(rest["openPrice"]),
        exact(rest["highPrice"]),
        exact(rest["lowPrice"]),
        exact(rest["volume"]),
        exact(rest["quoteVolume"]),
        int(NOW * 1000),
        "binance",
    )
    assert stream.status().last_message == NOW  # read through the Clock port


async def test_a_candle_is_closed_exactly_once_with_its_final_values(
    sim: UpstreamSimulator, session: aiohttp.ClientSession, clock: FakeClock, sim_clock: MovingClock
) -> None:
    stream, sink = adapter(sim, session, clock), RecordingSink()
    stream.want(frozenset({BTC_1M}))
    async with running(stream, sink):
        await eventually(lambda: sink.lives)
        await sim.streams.push()
        sim_clock.now += 60
        await sim.streams.push()
        await sim.streams.push()
        await eventually(lambda: len(sink.events) == 4)
    final = await rest_candle(session, sim, MINUTE_OPEN_MS)
    assert [(e.candle.timestamp, e.closed) for e in sink.candles(BTC_1M)] == [
        (MINUTE_OPEN_MS, False),
        (MINUTE_OPEN_MS, True),
        (MINUTE_OPEN_MS + 60_000, False),
        (MINUTE_OPEN_MS + 60_000, False),
    ]
    assert sink.candles(BTC_1M)[1].candle == final


async def test_want_changes_are_batched_and_paced_under_five_messages_a_second(
    sim: UpstreamSimulator, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    bases = ["BTC", "ETH", "SOL", "XRP", "BNB", "ADA", "DOT", "LINK"]
    keys = [StreamKey.candles(Symbol(base), Interval(i)) for base in bases for i in ("1m", "5m", "1h")]
    # no pings nor data from this simulator: liveness must outlast the waits for a free slot
    stream, sink = adapter(sim, session, clock, fast(batch=4, liveness_timeout=5.0)), RecordingSink()
    async with running(stream, sink):
        for count in range(1, len(keys) + 1):  # one more key at a time, faster than messages may go
            stream.want(frozenset(keys[:count]))
            await asyncio.sleep(0.005)
        await eventually(lambda: sink.live_keys() == frozenset(keys), timeout=10)
        stream.want(frozenset(keys[:3]))
        await eventually(lambda: len(sim.streams.log.subscriptions("binance")) == 3, timeout=5)
        await eventually(lambda: stream.status().streams == 3)
    sent = sim.streams.log.frames("binance", "text")
    assert all(len(f.payload["params"]) <= 4 for f in sent)
    assert sum(len(f.payload["params"]) for f in sent if f.payload["method"] == "SUBSCRIBE") == len(keys)
    assert len(sent) < len(keys)  # batched, not one message per key
    times = [f.at for f in sim.streams.log.frames("binance")]
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 5
    assert sim.streams.log.opened_count("binance") == 1  # and never disconnected for it


async def test_nothing_wanted_closes_the_connection(
    sim: UpstreamSimulator, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    stream, sink = adapter(sim, session, clock), RecordingSink()
    stream.want(frozenset({BTC_1M}))
    async with running(stream, sink):
        await eventually(lambda: sim.streams.log.open_count("binance") == 1 and sink.lives)
        stream.want(frozenset())
        await eventually(lambda: sim.streams.log.open_count("binance") == 0)
        assert stream.status() == StreamStatus("binance", "connected", 0, NOW, 0)
        stream.want(frozenset({ETH_1H}))
        await eventually(lambda: len(sink.lives) == 2)
    assert sink.lives == [frozenset({BTC_1M}), frozenset({ETH_1H})]
    assert sink.losses == []  # closing for lack of demand is no loss
    assert sim.streams.log.opened_count("binance") == 2


async def test_pings_are_answered_and_keep_the_connection(
    session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    settings = StreamSettings(ping_interval=0.25, pong_timeout=0.3)
    async with UpstreamSimulator(now=lambda: NOW, stream_settings=settings) as sim:
        stream, sink = adapter(sim, session, clock, fast(liveness_timeout=0.6)), RecordingSink()
        stream.want(frozenset({BTC_1M}))
        async with running(stream, sink):
            await asyncio.sleep(1.2)  # no data at all: only pings show life
        assert len(sim.streams.log.frames("binance", "pong")) >= 3
        assert sim.streams.log.opened_count("binance") == 1 and sink.losses == []


async def test_streams_are_sharded_over_connections_at_the_per_connection_cap(
    session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    async with UpstreamSimulator(now=lambda: NOW, stream_settings=StreamSettings(max_streams=3)) as sim:
        keys = frozenset(
            StreamKey.candles(Symbol(b), Interval("1m")) for b in ("BTC", "ETH", "SOL", "XRP", "BNB")
        )
        keys |= {BTC_TICKER, StreamKey.ticker(ETH)}
        stream, sink = adapter(sim, session, clock, max_streams=3), RecordingSink()
        stream.want(keys)
        async with running(stream, sink):
            await eventually(lambda: sink.live_keys() == keys)
            assert sim.streams.log.open_count("binance") == 3
            await eventually(lambda: stream.status().state == "connected")
            assert stream.status().streams == 7
        replies = [c for c in sim.streams.log.connections("binance")]
        assert sorted(len(c.subscriptions) for c in replies) == [1, 3, 3]


async def test_a_key_dropped_while_its_subscription_is_pending_is_unsubscribed(
    sim: UpstreamSimulator, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    stream, sink = adapter(sim, session, clock), RecordingSink()
    stream.want(frozenset({BTC_1M}))
    async with running(stream, sink):
        await eventually(lambda: sim.streams.log.frames("binance", "text"))  # BTC's SUBSCRIBE is out
        stream.want(frozenset({ETH_1H}))
        await eventually(lambda: sim.streams.log.subscriptions("binance") == ["ethusdt@kline_1h"])
        await eventually(lambda: stream.status().streams == 1)
    sent = sorted(
        (f.payload["method"], f.payload["params"]) for f in sim.streams.log.frames("binance", "text")
    )
    assert sent == [  # whether BTC's answer came before or after ETH's subscription went out
        ("SUBSCRIBE", ["btcusdt@kline_1m"]),
        ("SUBSCRIBE", ["ethusdt@kline_1h"]),
        ("UNSUBSCRIBE", ["btcusdt@kline_1m"]),
    ]
    assert ETH_1H in sink.live_keys()


async def test_pongs_are_paced_with_the_control_messages(
    session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    # pinged every 0.12 s: answering each at once would be 8 messages a second and a disconnect
    settings = StreamSettings(ping_interval=0.12, pong_timeout=1.0)
    async with UpstreamSimulator(now=lambda: NOW, stream_settings=settings) as sim:
        stream, sink = adapter(sim, session, clock), RecordingSink()
        stream.want(frozenset({BTC_1M, ETH_1H}))
        async with running(stream, sink):
            await asyncio.sleep(1.5)
        times = [frame.at for frame in sim.streams.log.frames("binance")]
    assert sink.losses == [] and sim.streams.log.opened_count("binance") == 1
    assert len(times) >= 8  # pongs went on, just never more than 5 within a second
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 5
