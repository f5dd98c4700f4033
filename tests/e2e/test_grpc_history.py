"""GetOhlcv with ``start``: one page of a candle range over gRPC, on a real port-0 server.

The same fake exchanges and SQLite store as the REST history suites (history_support), so
every candle, ``next`` and gap is known exactly, and so is every upstream call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from domain.candle_span import CandleSpan
from entrypoints.container import start, stop
from entrypoints.grpc.server import GrpcServer
from protos.cryptodata.v1 import market_data_pb2 as pb
from protos.cryptodata.v1 import market_data_pb2_grpc as pb_grpc
from tests.e2e import test_rest_support as support
from tests.e2e.conftest import TEST_GRACE
from tests.e2e.history_support import BASE, HOUR, NOW_MS, HistoryWorld, history_world, hours
from tests.history_fakes import candle_at

simulator = support.simulator

Started = tuple[HistoryWorld, pb_grpc.MarketDataStub]


@pytest.fixture
async def start_history(simulator: Any, tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Started]]]:
    """``world, stub = await start_history()``: a gRPC server on port 0 over the fakes."""
    running: list[tuple[GrpcServer, grpc.aio.Channel, HistoryWorld]] = []

    async def begin(**overrides: Any) -> Started:
        world = history_world(simulator, tmp_path, grpc_port=0, shutdown_grace=TEST_GRACE, **overrides)
        server = GrpcServer(world.settings, await start(world.container), health_every=5.0)
        await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        running.append((server, channel, world))
        return world, pb_grpc.MarketDataStub(channel)

    yield begin
    for server, channel, world in reversed(running):
        await channel.close()
        await server.stop()
        await stop(world.container)


def candles(count_from: int, count: int) -> list[pb.Candle]:
    return [pb.Candle(timestamp=c.timestamp, open=c.open, high=c.high, low=c.low, close=c.close, volume=c.volume)
            for c in (candle_at(t) for t in hours(count_from, count))]  # fmt: skip


async def test_a_range_page_has_next_complete_and_gaps(start_history):
    world, stub = await start_history()
    world.binance.outages.append(CandleSpan(BASE + 3 * HOUR, BASE + 5 * HOUR))
    answer = await stub.GetOhlcv(pb.GetOhlcvRequest(symbol="BTC", interval="1h", start=BASE, end=BASE + 50 * HOUR,
                                                    limit=8))  # fmt: skip
    assert list(answer.candles) == candles(BASE, 3) + candles(BASE + 5 * HOUR, 5)
    assert (answer.symbol, answer.interval, answer.source, answer.count) == ("BTCUSDT", "1h", "binance", 8)
    assert answer.HasField("next") and answer.next == BASE + 10 * HOUR
    assert answer.HasField("complete") and answer.complete is True
    assert [(g.from_ms, g.to_ms) for g in answer.gaps] == [(BASE + 3 * HOUR, BASE + 5 * HOUR)]
    assert world.binance.range_calls == [(BASE, BASE + 50 * HOUR)]


async def test_paging_by_next_ends_with_next_unset(start_history):
    world, stub = await start_history()
    end = BASE + 25 * HOUR
    request = pb.GetOhlcvRequest(symbol="ETH", interval="1h", start=BASE, end=end, limit=10)
    seen, nexts = [], []
    while True:
        answer = await stub.GetOhlcv(request)
        seen += [c.timestamp for c in answer.candles]
        nexts.append(answer.next if answer.HasField("next") else None)
        if not answer.HasField("next"):
            break
        request.start = answer.next
    assert nexts == [BASE + 10 * HOUR, BASE + 20 * HOUR, None]
    assert seen == hours(BASE, 25)
    assert world.binance.range_calls == [(BASE, end)]


async def test_without_start_the_answer_has_no_range_fields(start_history):
    world, stub = await start_history()
    answer = await stub.GetOhlcv(pb.GetOhlcvRequest(symbol="BTC", interval="1h", limit=3))
    assert answer.count == 3
    assert not answer.HasField("next") and not answer.HasField("complete") and list(answer.gaps) == []
    assert world.range_calls() == 0


@pytest.mark.parametrize(
    ("request_", "code", "field"),
    [
        (pb.GetOhlcvRequest(symbol="BTC", start=BASE + HOUR, end=BASE), "INVALID_PARAMETER", "start"),
        (pb.GetOhlcvRequest(symbol="BTC", start=NOW_MS + HOUR), "INVALID_PARAMETER", "start"),
        (pb.GetOhlcvRequest(symbol="BTC", start=-1), "INVALID_PARAMETER", "start"),
        (pb.GetOhlcvRequest(symbol="BTC", start=BASE, limit=10_001), "INVALID_PARAMETER", "limit"),
        (pb.GetOhlcvRequest(symbol="BTC", start=BASE, limit=0), "INVALID_PARAMETER", "limit"),
        (pb.GetOhlcvRequest(symbol="BTC", end=BASE), "INVALID_PARAMETER", "end"),
        (pb.GetOhlcvRequest(symbol="NOPE", start=BASE), "INVALID_SYMBOL", "symbol"),
    ],
)
async def test_bad_range_input_is_invalid_argument_with_no_upstream_call(start_history, simulator, request_, code,
                                                                         field):  # fmt: skip
    world, stub = await start_history()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetOhlcv(request_)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    trailers = dict(caught.value.trailing_metadata() or ())
    assert (trailers["error-code"], trailers["error-field"]) == (code, field)
    assert (world.range_calls(), world.window_calls()) == (0, 0)
    assert [r.path for r in simulator.requests if r.path in ("/api/v3/klines", "/0/public/OHLC")] == []
