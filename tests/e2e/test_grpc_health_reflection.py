"""The standard health service and server reflection."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from protos.cryptodata.v1 import market_data_pb2 as pb
from simulator import UpstreamSimulator
from tests.e2e.conftest import GrpcService, MakeGrpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def check(service: GrpcService, name: str) -> int:
    stub = health_pb2_grpc.HealthStub(service.channel)
    return (await stub.Check(health_pb2.HealthCheckRequest(service=name))).status


async def test_serving_for_the_server_and_market_data(grpc_service: GrpcService) -> None:
    assert await check(grpc_service, "") == SERVING
    assert await check(grpc_service, "cryptodata.v1.MarketData") == SERVING


async def test_get_health_says_unknown_until_a_provider_is_called(grpc_service: GrpcService) -> None:
    """Issue 13: a provider never called was reported "online" with no check behind it."""
    fresh = await grpc_service.stub.GetHealth(pb.GetHealthRequest())
    assert fresh.status == "healthy"
    assert {p.name: p.status for p in fresh.providers} == dict.fromkeys(
        ("binance", "kraken", "coingecko", "coincap", "alternative_me"), "unknown"
    )
    assert not any(p.HasField("last_check") for p in fresh.providers)
    await grpc_service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="BTC"))
    after = await grpc_service.stub.GetHealth(pb.GetHealthRequest())
    binance = next(p for p in after.providers if p.name == "binance")
    assert binance.status == "online" and binance.HasField("last_check")
    assert after.status == "healthy"


async def _break_everything(service: GrpcService, simulator: UpstreamSimulator) -> None:
    """Fail every provider enough times that each is reported offline."""
    for name in simulator.providers:
        simulator.set_fault(name, "http_500")
    for _ in range(3):
        for rpc, request in (
            (service.stub.GetOhlcv, pb.GetOhlcvRequest(symbol="BTC")),
            (service.stub.GetPrices, pb.GetPricesRequest(symbols=["BTC"])),
            (service.stub.GetSentiment, pb.GetSentimentRequest()),
            (service.stub.GetMarketOverview, pb.GetMarketOverviewRequest()),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await rpc(request)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_not_serving_once_no_data_can_be_served(
    make_grpc: MakeGrpc, simulator: UpstreamSimulator
) -> None:
    # Refreshed by the background task only: the test just watches.
    service = await make_grpc(health_every=0.05)
    watch = health_pb2_grpc.HealthStub(service.channel).Watch(
        health_pb2.HealthCheckRequest(service="cryptodata.v1.MarketData")
    )
    seen = [(await watch.read()).status]

    await _break_everything(service, simulator)
    async with asyncio.timeout(30):
        while seen[-1] != NOT_SERVING:
            seen.append((await watch.read()).status)
    watch.cancel()

    assert seen[0] == SERVING
    assert (await service.stub.GetHealth(pb.GetHealthRequest())).status == "unhealthy"
    assert await check(service, "") == NOT_SERVING


async def test_sentiment_switched_off_cannot_keep_the_service_serving(
    make_grpc: MakeGrpc, simulator: UpstreamSimulator
) -> None:
    # With ENABLE_SENTIMENT=false its provider is never called, so it never looks offline; it
    # must not count as a capability that can still be served.
    service = await make_grpc(health_every=0.05, enable_sentiment=False)
    for name in simulator.providers:
        simulator.set_fault(name, "http_500")
    for _ in range(3):
        for rpc, request in (
            (service.stub.GetOhlcv, pb.GetOhlcvRequest(symbol="BTC")),
            (service.stub.GetPrices, pb.GetPricesRequest(symbols=["BTC"])),
            (service.stub.GetMarketOverview, pb.GetMarketOverviewRequest()),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await rpc(request)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE

    report = await service.stub.GetHealth(pb.GetHealthRequest())
    assert {p.name: p.status for p in report.providers}["alternative_me"] == "unknown"  # never called
    assert report.status == "unhealthy"
    async with asyncio.timeout(10):
        while await check(service, "cryptodata.v1.MarketData") != NOT_SERVING:
            await asyncio.sleep(0.05)
    assert simulator.calls("alternative_me") == 0


async def test_cached_data_keeps_the_service_serving_when_every_provider_is_down(
    make_grpc: MakeGrpc, simulator: UpstreamSimulator
) -> None:
    service = await make_grpc(health_every=0.05)
    await service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="ETH"))  # one entry cached
    await _break_everything(service, simulator)  # asks for BTC: every provider fails
    await service.server.health.refresh()  # the refresh the background task would make next

    report = await service.stub.GetHealth(pb.GetHealthRequest())
    assert {p.status for p in report.providers} == {"offline"}
    assert report.status == "degraded"  # the cached candles can still be served
    assert await check(service, "cryptodata.v1.MarketData") == SERVING


async def test_not_serving_during_shutdown(grpc_service: GrpcService) -> None:
    await grpc_service.server.health.stop()

    assert await check(grpc_service, "cryptodata.v1.MarketData") == NOT_SERVING


async def _reflect(
    service: GrpcService, request: reflection_pb2.ServerReflectionRequest
) -> reflection_pb2.ServerReflectionResponse:
    call = reflection_pb2_grpc.ServerReflectionStub(service.channel).ServerReflectionInfo()
    await call.write(request)
    await call.done_writing()
    answer = await call.read()
    assert await call.code() == grpc.StatusCode.OK
    return answer


async def test_reflection_lists_the_services(grpc_service: GrpcService) -> None:
    answer = await _reflect(grpc_service, reflection_pb2.ServerReflectionRequest(list_services=""))

    names = {service.name for service in answer.list_services_response.service}
    assert names == {
        "cryptodata.v1.MarketData",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }


async def test_reflection_describes_market_data(grpc_service: GrpcService) -> None:
    answer = await _reflect(
        grpc_service,
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="cryptodata.v1.MarketData"),
    )

    files = [descriptor_pb2.FileDescriptorProto.FromString(raw)
             for raw in answer.file_descriptor_response.file_descriptor_proto]  # fmt: skip
    [service] = [s for f in files for s in f.service if s.name == "MarketData"]
    methods = {m.name: m for m in service.method}
    assert set(methods) == {
        "GetOhlcv",
        "GetPrices",
        "GetSentiment",
        "GetMarketOverview",
        "GetHealth",
        "StreamPrices",
        "StreamCandles",
        "GetIndicators",
    }
    assert methods["StreamPrices"].server_streaming
    assert methods["StreamCandles"].server_streaming
