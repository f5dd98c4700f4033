"""SSE and gRPC over the real chain: the simulator's pushes reach `/api/stream/*` and
StreamCandles / StreamPrices clients with the simulator's own numbers."""

from __future__ import annotations

import asyncio

import aiohttp

from protos.cryptodata.v1 import market_data_pb2 as pb
from simulator import UpstreamSimulator
from tests.e2e.live_chain_support import (
    MINUTE_MS,
    T0_MS,
    SseReader,
    StartChain,
    WallClock,
    candle_of,
    chain_sim,  # noqa: F401 - fixture
    get_json,
    rest_klines,
    sim_candle,
    sim_ticker,
    start_chain,  # noqa: F401 - fixture
    upstream_holds,
    wall,  # noqa: F401 - fixture
)


def as_dict(candle: pb.LiveCandle) -> dict[str, object]:
    return {"timestamp": candle.timestamp, "open": candle.open, "high": candle.high, "low": candle.low,
            "close": candle.close, "volume": candle.volume, "closed": candle.closed}  # fmt: skip


async def test_sse_candles_snapshot_then_updates_with_ids(
    start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock
) -> None:
    service = await start_chain()
    async with aiohttp.ClientSession() as http:
        async with http.get(service.url("/api/stream/candles"), params={"symbol": "ETH", "interval": "1m"}) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/event-stream")
            events = SseReader(response)
            event, snapshot, ident = await events.next()
            assert event == "snapshot"
            rows = await rest_klines(chain_sim, "ETHUSDT", "1m", T0_MS - 99 * MINUTE_MS, 100)
            assert snapshot["data"] == [candle_of(row, closed=row[0] != T0_MS) for row in rows]
            assert ident == f"{T0_MS}-live"

            wall.advance(40)  # 10 s into the next minute
            await chain_sim.streams.push("binance")
            final = await sim_candle(chain_sim, "ETHUSDT", "1m", T0_MS, closed=True)
            forming = await sim_candle(chain_sim, "ETHUSDT", "1m", T0_MS + MINUTE_MS, closed=False)
            got = [await events.next(), await events.next()]
            assert [(e, d["data"], i) for e, d, i in got] == [
                ("update", [final], f"{T0_MS}-closed"),
                ("update", [forming], f"{T0_MS + MINUTE_MS}-live"),
            ]
            assert [d["eventTime"] for _, d, _ in got] == [int(wall.wall * 1000)] * 2


async def test_sse_prices_follow_the_live_tickers(
    start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock
) -> None:
    service = await start_chain()
    async with aiohttp.ClientSession() as http:
        async with http.get(service.url("/api/stream/prices"), params={"symbols": "BTC,MATIC"}) as response:
            events = SseReader(response)
            event, snapshot, _ = await events.next()
            assert event == "snapshot"
            assert [q["symbol"] for q in snapshot["data"]] == ["BTC", "MATIC"]
            # MATIC's live price is Binance's POLUSDT ticker.
            wall.advance(3)
            chain_sim.set_price("BTC", 65_432.1)
            chain_sim.set_price("MATIC", 0.4321)
            await upstream_holds(chain_sim, "binance", "btcusdt@miniTicker", "polusdt@miniTicker")
            await chain_sim.streams.push("binance")
            seen: dict[str, dict[str, object]] = {}
            while len(seen) < 2:
                event, update, _ = await events.next()
                assert event == "update"
                assert update["eventTime"] == int(wall.wall * 1000)
                seen.update((q["symbol"], q) for q in update["data"])
            btc, pol = await sim_ticker(chain_sim, "BTCUSDT"), await sim_ticker(chain_sim, "POLUSDT")
            assert seen["BTC"]["price"] == float(btc["lastPrice"])
            assert seen["BTC"]["volume24h"] == float(btc["quoteVolume"])
            assert seen["MATIC"]["price"] == float(pol["lastPrice"])
            assert seen["MATIC"]["sources"] == ["binance"]


async def test_grpc_stream_candles(start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock) -> None:
    service = await start_chain(with_grpc=True)
    call = service.stub.StreamCandles(pb.StreamCandlesRequest(symbol="SOL", interval="1m"))
    try:
        snapshot = await asyncio.wait_for(call.read(), 10)
        assert (snapshot.type, snapshot.symbol, snapshot.interval, snapshot.source) == ("snapshot", "SOLUSDT", "1m", "binance")
        rows = await rest_klines(chain_sim, "SOLUSDT", "1m", T0_MS - 99 * MINUTE_MS, 100)
        assert [as_dict(c) for c in snapshot.candles] == [candle_of(row, closed=row[0] != T0_MS) for row in rows]

        wall.advance(31)
        await chain_sim.streams.push("binance")
        updates = [await asyncio.wait_for(call.read(), 5) for _ in range(2)]
        final = await sim_candle(chain_sim, "SOLUSDT", "1m", T0_MS, closed=True)
        forming = await sim_candle(chain_sim, "SOLUSDT", "1m", T0_MS + MINUTE_MS, closed=False)
        assert [[as_dict(c) for c in u.candles] for u in updates] == [[final], [forming]]
        assert all(u.type == "update" and u.event_time == int(wall.wall * 1000) for u in updates)
    finally:
        call.cancel()


async def test_grpc_stream_prices_on_change(start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock) -> None:
    service = await start_chain(with_grpc=True, grpc_stream_interval=5)
    call = service.stub.StreamPrices(pb.StreamPricesRequest(symbols=["ETH", "BTC"]))
    try:
        first = await asyncio.wait_for(call.read(), 10)
        assert [q.symbol for q in first.quotes] == ["ETH", "BTC"]
        await upstream_holds(chain_sim, "binance", "btcusdt@miniTicker", "ethusdt@miniTicker")
        wall.advance(2)
        chain_sim.set_price("ETH", 3_210.5)
        await chain_sim.streams.push("binance")
        eth = await sim_ticker(chain_sim, "ETHUSDT")
        # Pushed on change, well before the 5 s interval.
        async with asyncio.timeout(3):
            while True:
                board = await call.read()
                quotes = {q.symbol: q for q in board.quotes}
                if quotes["ETH"].price == float(eth["lastPrice"]):
                    break
        assert [q.symbol for q in board.quotes] == ["ETH", "BTC"]
        assert list(quotes["ETH"].sources) == ["binance"]
    finally:
        call.cancel()
    prices = await get_json(service.url("/api/prices?symbols=ETH"))
    assert prices["data"][0]["symbol"] == "ETH"


async def test_grpc_stream_prices_refreshes_an_asset_without_a_live_ticker_from_the_board(
    start_chain: StartChain, chain_sim: UpstreamSimulator, wall: WallClock
) -> None:
    """Kraken has no BNB market: with Kraken streaming, BNB's quote can only come from the
    cached board, and must follow it as the polling StreamPrices did (at least every
    GRPC_STREAM_INTERVAL, the board itself renewed every CACHE_TTL_PRICES)."""
    service = await start_chain(with_grpc=True, stream_providers=["kraken"], grpc_stream_interval=0.3)
    call = service.stub.StreamPrices(pb.StreamPricesRequest(symbols=["BTC", "BNB"]))
    try:
        first = await asyncio.wait_for(call.read(), 10)
        before = {q.symbol: q.price for q in first.quotes}["BNB"]
        chain_sim.set_price("BNB", 777.0)
        wall.advance(service.settings.cache_ttl_prices + 1)  # the cached board is due for renewal
        async with asyncio.timeout(5):
            while True:
                board = await call.read()
                bnb = {q.symbol: q for q in board.quotes}["BNB"]
                if bnb.price != before:
                    break
    finally:
        call.cancel()
    rest = await get_json(service.url("/api/prices?symbols=BNB"))
    assert bnb.price == rest["data"][0]["price"]
    assert abs(bnb.price - 777.0) / 777.0 < 0.001
