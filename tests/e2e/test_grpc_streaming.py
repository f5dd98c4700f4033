"""StreamPrices: immediate board, periodic updates, shared upstream calls, clean endings."""

from __future__ import annotations

import asyncio
from statistics import median

import grpc
import pytest
import structlog

from protos.cryptodata.v1 import market_data_pb2 as pb
from simulator import UpstreamSimulator
from tests.e2e.conftest import GrpcService, MakeGrpc
from tests.e2e.test_rest_support import provider_prices

PRICE_PROVIDERS = ("coingecko", "coincap", "binance")
FAST = {"grpc_stream_interval": 0.2, "cache_ttl_prices": 300}


async def first(call: grpc.aio.UnaryStreamCall, count: int) -> list[pb.GetPricesResponse]:
    """The first ``count`` messages of a stream."""
    messages = []
    async with asyncio.timeout(30):  # a safety net against a hang, not a timing assertion
        async for message in call:
            messages.append(message)
            if len(messages) == count:
                break
    return messages


async def test_two_subscribers_share_upstream_calls(
    make_grpc: MakeGrpc, simulator: UpstreamSimulator
) -> None:
    service = await make_grpc(**FAST)
    request = pb.StreamPricesRequest(symbols=["BTC", "ETH"])
    calls = [service.stub.StreamPrices(request), service.stub.StreamPrices(request)]

    received = await asyncio.gather(*(first(call, 3) for call in calls))
    for call in calls:
        call.cancel()

    delivered = sum(len(messages) for messages in received)
    assert delivered == 6
    for messages in received:
        assert all([q.symbol for q in m.quotes] == ["BTC", "ETH"] for m in messages)
        assert all(m.quotes[0].price > 0 for m in messages)
        stamps = [m.timestamp for m in messages]
        assert stamps == sorted(stamps)
    # Six messages, one upstream call per price provider: updates come from the shared cache.
    assert [simulator.calls(name) for name in PRICE_PROVIDERS] == [1, 1, 1]


async def test_without_live_streams_updates_follow_the_refetched_board(
    make_grpc: MakeGrpc, simulator: UpstreamSimulator
) -> None:
    # STREAM_ENABLED=false: the stream polls the cached board. A TTL shorter than the stream
    # interval: every update is a fresh fetch.
    service = await make_grpc(grpc_stream_interval=0.2, cache_ttl_prices=0.05, stream_enabled=False)
    call = service.stub.StreamPrices(pb.StreamPricesRequest(symbols=["SOL"]))
    [before] = await first(call, 1)

    simulator.set_price("SOL", before.quotes[0].price * 2)
    # What the three providers now quote, read from them directly: the update must serve
    # their median, on the stream that is still open.
    quoted = [(await provider_prices(simulator, p, ("SOL",)))["SOL"] for p in ("coingecko", "coincap", "binance")]
    updated = None
    async with asyncio.timeout(30):
        async for message in call:
            if message.quotes[0].price > before.quotes[0].price * 1.5:
                updated = message
                break
    assert updated is not None, "the stream ended before the new price arrived"
    assert updated.quotes[0].price == pytest.approx(median(quoted), rel=1e-12)
    assert call.done() is False  # still streaming after the update
    call.cancel()


async def test_with_live_streams_updates_follow_the_exchange_ticker(
    make_grpc: MakeGrpc, simulator: UpstreamSimulator
) -> None:
    # Live streams on (the default): the price moves with the exchange's ticker as soon as the
    # exchange sends it, not when a cache entry expires.
    service = await make_grpc(grpc_stream_interval=5, cache_ttl_prices=3600)
    call = service.stub.StreamPrices(pb.StreamPricesRequest(symbols=["SOL"]))
    before = await call.read()

    simulator.set_price("SOL", before.quotes[0].price * 2)
    ticker = (await provider_prices(simulator, "binance", ("SOL",)))["SOL"]  # what Binance's ticker says now
    updated = None
    async with asyncio.timeout(30):
        while updated is None:
            await simulator.streams.push("binance")
            try:
                async with asyncio.timeout(0.5):
                    message = await call.read()
            except TimeoutError:
                continue
            if message.quotes[0].price > before.quotes[0].price * 1.5:
                updated = message
    assert updated.quotes[0].price == pytest.approx(ticker, rel=1e-12)
    assert call.done() is False
    call.cancel()


async def test_a_cancelled_stream_ends_cleanly(make_grpc: MakeGrpc) -> None:
    service = await make_grpc(**FAST)

    with structlog.testing.capture_logs() as logs:
        call = service.stub.StreamPrices(pb.StreamPricesRequest(symbols=["BTC"]))
        await first(call, 1)
        assert call.cancel()
        assert await call.code() == grpc.StatusCode.CANCELLED
        async with asyncio.timeout(10):
            while not any(entry["event"] == "rpc" for entry in logs):
                await asyncio.sleep(0.01)

    [line] = [entry for entry in logs if entry["event"] == "rpc"]
    assert line["status"] == "CANCELLED"
    assert line["messages"] >= 1
    await service.stub.GetPrices(pb.GetPricesRequest(symbols=["BTC"]))  # still serving


async def test_server_shutdown_ends_streams_with_ok(make_grpc: MakeGrpc) -> None:
    # A long interval: only the shutdown can end the stream before the next update.
    service = await make_grpc(grpc_stream_interval=5)  # the most allowed; the stop comes first
    call = service.stub.StreamPrices(pb.StreamPricesRequest(symbols=["BTC"]))
    await first(call, 1)

    await service.server.stop()

    async with asyncio.timeout(30):
        assert [message async for message in call] == []
    assert await call.code() == grpc.StatusCode.OK


async def test_a_bad_symbol_fails_the_stream_before_any_message(
    grpc_service: GrpcService, simulator: UpstreamSimulator
) -> None:
    call = grpc_service.stub.StreamPrices(pb.StreamPricesRequest(symbols=["NOPE"]))

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await first(call, 1)

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert sum(simulator.calls(name) for name in PRICE_PROVIDERS) == 0


async def test_failing_providers_end_the_stream_unavailable(
    grpc_service: GrpcService, simulator: UpstreamSimulator
) -> None:
    for name in PRICE_PROVIDERS:
        simulator.set_fault(name, "http_500")
    call = grpc_service.stub.StreamPrices(pb.StreamPricesRequest(symbols=["BTC"]))

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await first(call, 1)

    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert all(name in caught.value.details() for name in PRICE_PROVIDERS)


async def test_opening_streams_counts_against_the_prices_limit(make_grpc: MakeGrpc) -> None:
    service = await make_grpc(rate_limit_prices=1, **FAST)
    opened = service.stub.StreamPrices(pb.StreamPricesRequest(symbols=["BTC"]))
    await first(opened, 2)  # updates of an open stream are not counted

    refused = service.stub.StreamPrices(pb.StreamPricesRequest(symbols=["BTC"]))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await first(refused, 1)
    opened.cancel()

    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_a_client_may_hold_only_so_many_streams_at_once(make_grpc: MakeGrpc) -> None:
    service = await make_grpc(grpc_max_streams_per_client=2)
    request = pb.StreamPricesRequest(symbols=["BTC"])
    held = [service.stub.StreamPrices(request) for _ in range(2)]
    for call in held:
        assert len(await first(call, 1)) == 1  # both open and served

    refused = service.stub.StreamPrices(request)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await first(refused, 1)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "at most 2" in (caught.value.details() or "")
    trailers = dict(caught.value.trailing_metadata() or ())
    assert trailers["error-code"] == "RATE_LIMITED"

    held[0].cancel()  # a closed stream frees its place
    async with asyncio.timeout(5):
        while True:
            again = service.stub.StreamPrices(request)
            try:
                assert len(await first(again, 1)) == 1
                break
            except grpc.aio.AioRpcError as error:  # the cancel may not have reached the server yet
                assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                await asyncio.sleep(0.05)
    again.cancel()
    held[1].cancel()
