"""StreamCandles, StreamPrices pushed on change, and the streams' health, over a real gRPC server
on port 0 with a fake live feed in the container."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest

from application.live.updates import LiveCandle
from domain.live import StreamStatus
from entrypoints.container import build_container, start, stop
from entrypoints.grpc.server import GrpcServer
from protos.cryptodata.v1 import market_data_pb2 as pb
from protos.cryptodata.v1 import market_data_pb2_grpc as pb_grpc
from simulator import UpstreamSimulator
from tests.conftest import settings_for
from tests.e2e.live_support import override_live
from tests.fake_live_feed import MINUTE_MS, T0, FakeLiveFeed, FakeStreamReport, candle, quote


class Live:
    """A started gRPC server with its fake feed, and a stub."""

    def __init__(self, server: GrpcServer, feed: FakeLiveFeed | None, stub: pb_grpc.MarketDataStub) -> None:
        self.server = server
        self.feed = feed
        self.stub = stub


StartGrpc = Callable[..., Awaitable[Live]]


@pytest.fixture
async def start_grpc(simulator: UpstreamSimulator) -> AsyncIterator[StartGrpc]:
    cleanup: list[Callable[[], Awaitable[None]]] = []

    async def begin(feed: Any = "new", report: Any = None, **overrides: Any) -> Live:
        feed = FakeLiveFeed() if feed == "new" else feed
        settings = settings_for(simulator, grpc_port=0, shutdown_grace=1.0, **overrides)
        container = build_container(settings)
        override_live(container, feed, report)
        server = GrpcServer(settings, await start(container))
        await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")

        async def close() -> None:
            await channel.close()
            await server.stop()
            await stop(container)

        cleanup.append(close)
        return Live(server, feed, pb_grpc.MarketDataStub(channel))

    yield begin
    for close in reversed(cleanup):
        await close()


async def next_message(call: Any, timeout: float = 5.0) -> Any:
    async with asyncio.timeout(timeout):  # a safety net, not a timing assertion
        return await call.read()


def closes(update: pb.CandleUpdate) -> list[tuple[int, float, bool]]:
    return [(c.timestamp, c.close, c.closed) for c in update.candles]


async def test_stream_candles_snapshot_then_updates(start_grpc: StartGrpc) -> None:
    live = await start_grpc()
    call = live.stub.StreamCandles(pb.StreamCandlesRequest(symbol="btc-usdt", interval="1m"))
    snapshot = await next_message(call)
    assert (snapshot.type, snapshot.symbol, snapshot.interval, snapshot.source) == ("snapshot", "BTCUSDT", "1m", "binance")
    assert closes(snapshot) == [(T0 - 2 * MINUTE_MS, 100.0, True), (T0 - MINUTE_MS, 101.0, True), (T0, 102.0, False)]
    assert not snapshot.HasField("event_time")  # unknown in this snapshot: unset, not 0
    assert live.feed.inboxes[-1].watches[0].snapshot.rendered == {}  # made for one stream: not kept
    assert snapshot.candles[0] == pb.LiveCandle(timestamp=T0 - 2 * MINUTE_MS, open=99.0, high=102.0, low=97.0,
                                                close=100.0, volume=1.5, closed=True)  # fmt: skip

    update = live.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 108.0), True),
                                    LiveCandle(candle(T0 + MINUTE_MS, 108.0, 0.0), False), event_time=T0 + MINUTE_MS)  # fmt: skip
    message = await next_message(call)
    assert (message.type, message.event_time) == ("update", T0 + MINUTE_MS)
    assert closes(message) == [(T0, 108.0, True), (T0 + MINUTE_MS, 108.0, False)]
    assert update.rendered["grpc"] == message.SerializeToString()  # encoded once, kept on the update
    call.cancel()


async def test_stream_candles_refusals(start_grpc: StartGrpc) -> None:
    live = await start_grpc()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await next_message(live.stub.StreamCandles(pb.StreamCandlesRequest(symbol="DOGE", interval="1m")))
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert dict(refused.value.trailing_metadata())["error-code"] == "INVALID_SYMBOL"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await next_message(live.stub.StreamCandles(pb.StreamCandlesRequest(symbol="BTC", interval="3m")))
    assert dict(refused.value.trailing_metadata())["error-code"] == "INVALID_INTERVAL"

    off = await start_grpc(feed=None)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await next_message(off.stub.StreamCandles(pb.StreamCandlesRequest(symbol="BTC", interval="1m")))
    assert refused.value.code() is grpc.StatusCode.UNIMPLEMENTED
    assert refused.value.details() == "live streams are switched off on this service (STREAM_ENABLED=false)"


async def test_a_slow_subscriber_is_resource_exhausted_with_its_reason(start_grpc: StartGrpc) -> None:
    live = await start_grpc()
    slow = live.stub.StreamCandles(pb.StreamCandlesRequest(symbol="BTC", interval="1m"))
    await next_message(slow)  # its inbox is the first
    fast = live.stub.StreamCandles(pb.StreamCandlesRequest(symbol="BTC", interval="1m"))
    await next_message(fast)
    live.feed.open_inboxes()[0].drop("fell 1000 updates behind")
    with pytest.raises(grpc.aio.AioRpcError) as dropped:
        await next_message(slow)
    assert dropped.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert dropped.value.details() == "stream dropped: fell 1000 updates behind"
    assert dict(dropped.value.trailing_metadata())["error-code"] == "SLOW_SUBSCRIBER"
    live.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 109.0), False))
    assert closes(await next_message(fast)) == [(T0, 109.0, False)]
    fast.cancel()


async def test_stream_prices_pushes_on_change_and_repeats_the_board_when_quiet(start_grpc: StartGrpc) -> None:
    live = await start_grpc(grpc_stream_interval=0.4)
    call = live.stub.StreamPrices(pb.StreamPricesRequest(symbols=["ETH", "BTC"]))
    first = await next_message(call)
    assert [(q.symbol, q.price) for q in first.quotes] == [("ETH", 101.0), ("BTC", 100.0)]
    assert (first.source, list(first.missing), first.count, first.stale) == ("binance", [], 2, False)

    loop = asyncio.get_running_loop()
    live.feed.push_quotes(quote("SOL", 3.0))  # not watched: nothing is sent for it
    pushed_at = loop.time()
    live.feed.push_quotes(quote("BTC", 71_000.0))
    changed = await next_message(call)
    assert loop.time() - pushed_at < 0.3  # pushed, not waiting for the 0.4 s schedule
    assert [(q.symbol, q.price) for q in changed.quotes] == [("ETH", 101.0), ("BTC", 71_000.0)]

    quiet_from = loop.time()
    again = await next_message(call)  # nothing changed: the same board, after the interval
    assert loop.time() - quiet_from >= 0.3
    assert [(q.symbol, q.price) for q in again.quotes] == [("ETH", 101.0), ("BTC", 71_000.0)]
    assert again.timestamp >= changed.timestamp
    call.cancel()


async def test_live_stream_prices_names_the_assets_without_a_quote(start_grpc: StartGrpc) -> None:
    live = await start_grpc()
    del live.feed.board["SOL"]
    call = live.stub.StreamPrices(pb.StreamPricesRequest(symbols=["SOL", "BTC"]))
    first = await next_message(call)
    assert ([q.symbol for q in first.quotes], list(first.missing), first.count) == (["BTC"], ["SOL"], 1)
    live.feed.push_quotes(quote("SOL", 150.0))
    second = await next_message(call)
    assert ([q.symbol for q in second.quotes], list(second.missing)) == (["SOL", "BTC"], [])  # as asked
    call.cancel()


async def test_streams_end_ok_when_the_server_drains(start_grpc: StartGrpc) -> None:
    live = await start_grpc()
    candles = live.stub.StreamCandles(pb.StreamCandlesRequest(symbol="BTC", interval="1m"))
    prices = live.stub.StreamPrices(pb.StreamPricesRequest(symbols=["BTC"]))
    await next_message(candles)
    await next_message(prices)
    live.server.shutdown.begin()
    for call in (candles, prices):
        assert await next_message(call) is grpc.aio.EOF
        assert await call.code() is grpc.StatusCode.OK
    await asyncio.sleep(0.05)
    assert live.feed.open_inboxes() == []


async def test_live_streams_share_the_per_client_stream_cap(start_grpc: StartGrpc) -> None:
    live = await start_grpc(grpc_max_streams_per_client=2)
    first = live.stub.StreamCandles(pb.StreamCandlesRequest(symbol="BTC", interval="1m"))
    second = live.stub.StreamPrices(pb.StreamPricesRequest(symbols=["BTC"]))
    await next_message(first)
    await next_message(second)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await next_message(live.stub.StreamCandles(pb.StreamCandlesRequest(symbol="ETH", interval="1m")))
    assert refused.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    for call in (first, second):
        call.cancel()


async def test_get_health_reports_the_streams(start_grpc: StartGrpc) -> None:
    report = FakeStreamReport(StreamStatus("binance", "connected", 3, 1_780_000_000.25, 2),
                              StreamStatus("kraken", "down", 0, None, 0))  # fmt: skip
    live = await start_grpc(report=report)
    health = await live.stub.GetHealth(pb.GetHealthRequest())
    assert list(health.streams) == [
        pb.StreamHealth(provider="binance", state="connected", streams=3, last_message=1_780_000_000_250, reconnects=2),
        pb.StreamHealth(provider="kraken", state="down", streams=0, reconnects=0),
    ]
    assert not health.streams[1].HasField("last_message")
    off = await start_grpc(feed=None)
    assert list((await off.stub.GetHealth(pb.GetHealthRequest())).streams) == []
