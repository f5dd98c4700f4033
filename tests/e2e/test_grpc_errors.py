"""Status codes, trailers and request ids of MarketData RPCs."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import grpc
import pytest
import structlog

from application.get_health import HealthReport
from entrypoints.grpc.server import GrpcServer
from protos.cryptodata.v1 import market_data_pb2 as pb
from protos.cryptodata.v1 import market_data_pb2_grpc as pb_grpc
from simulator import UpstreamSimulator
from tests.e2e.conftest import GrpcService, MakeGrpc

OHLCV_PROVIDERS = ("binance", "kraken")
PRICE_PROVIDERS = ("coingecko", "coincap", "binance")


def trailers(error: grpc.aio.AioRpcError) -> dict[str, str]:
    return {key: value for key, value in error.trailing_metadata() or ()}


def upstream_calls(simulator: UpstreamSimulator, providers: tuple[str, ...]) -> int:
    return sum(simulator.calls(name) for name in providers)


@pytest.mark.parametrize(
    ("request_", "field", "error_code"),
    [
        (pb.GetOhlcvRequest(symbol="DOGE", interval="1h"), "symbol", "INVALID_SYMBOL"),
        (pb.GetOhlcvRequest(symbol="BTC/EUR"), "symbol", "INVALID_SYMBOL"),
        (pb.GetOhlcvRequest(symbol=""), "symbol", "INVALID_PARAMETER"),  # missing, not malformed
        (pb.GetOhlcvRequest(symbol="  "), "symbol", "INVALID_PARAMETER"),
        (pb.GetOhlcvRequest(symbol="BTC", interval="7m"), "interval", "INVALID_INTERVAL"),
        (pb.GetOhlcvRequest(symbol="BTC", limit=0), "limit", "INVALID_PARAMETER"),
        (pb.GetOhlcvRequest(symbol="BTC", limit=1001), "limit", "INVALID_PARAMETER"),
    ],
)
async def test_bad_ohlcv_request_is_invalid_argument_without_upstream_call(
    grpc_service: GrpcService, simulator: UpstreamSimulator, request_: pb.GetOhlcvRequest, field: str,
    error_code: str,
) -> None:  # fmt: skip
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await grpc_service.stub.GetOhlcv(request_)

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().split()[0].rstrip(":") == field, caught.value.details()  # names it first
    assert trailers(caught.value)["error-code"] == error_code
    assert trailers(caught.value)["error-field"] == field
    assert upstream_calls(simulator, OHLCV_PROVIDERS) == 0


@pytest.mark.parametrize("symbols", [["BTC", "NOPE"], ["BTC", ""], ["BTC/JPY"]])
async def test_bad_price_symbols_are_invalid_argument_without_upstream_call(
    grpc_service: GrpcService, simulator: UpstreamSimulator, symbols: list[str]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await grpc_service.stub.GetPrices(pb.GetPricesRequest(symbols=symbols))

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert trailers(caught.value)["error-code"] == "INVALID_SYMBOL"
    assert trailers(caught.value)["error-field"] == "symbols"  # the request field to fix
    assert upstream_calls(simulator, PRICE_PROVIDERS) == 0


async def test_a_quote_no_configured_ohlcv_provider_serves_is_invalid_without_upstream_call(
    make_grpc: MakeGrpc, simulator: UpstreamSimulator
) -> None:
    service = await make_grpc(ohlcv_providers="binance")  # Binance lists no USD markets
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="BTCUSD"))

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert trailers(caught.value)["error-code"] == "INVALID_SYMBOL"
    assert trailers(caught.value)["error-field"] == "symbol"
    assert upstream_calls(simulator, OHLCV_PROVIDERS) == 0


async def test_a_market_no_provider_lists_is_invalid_and_not_asked_about_again(
    make_grpc: MakeGrpc, simulator: UpstreamSimulator
) -> None:
    service = await make_grpc(supported_symbols="BTC,XMR")  # XMR: configured, listed nowhere
    for interval in ("1h", "4h"):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="XMR", interval=interval))
        # Every provider refused the market itself: retrying cannot help, so no 503.
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert trailers(caught.value)["error-code"] == "INVALID_SYMBOL"
        if interval == "1h":
            assert simulator.calls("binance") == 1 and simulator.calls("kraken") == 1
            simulator.reset_calls()
    assert upstream_calls(simulator, OHLCV_PROVIDERS) == 0  # both remember it is unlisted


async def test_sentiment_switched_off_is_unimplemented_not_found(
    make_grpc: MakeGrpc, simulator: UpstreamSimulator
) -> None:
    service = await make_grpc(enable_sentiment=False)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.GetSentiment(pb.GetSentimentRequest())

    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "ENABLE_SENTIMENT" in caught.value.details()
    assert trailers(caught.value)["error-code"] == "NOT_FOUND"
    assert simulator.calls("alternative_me") == 0


async def test_over_the_limit_is_resource_exhausted_with_retry_after(make_grpc: MakeGrpc) -> None:
    service = await make_grpc(rate_limit_ohlcv=1)
    await service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="BTC"))

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="BTC"))

    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    meta = trailers(caught.value)
    # One request per minute, spent just now: the window reopens a minute after it.
    assert 59 <= int(meta["retry-after"]) <= 60
    assert meta["error-code"] == "RATE_LIMITED"
    # Groups are separate and health is never limited, as on REST.
    await service.stub.GetPrices(pb.GetPricesRequest(symbols=["BTC"]))
    await service.stub.GetHealth(pb.GetHealthRequest())


async def test_the_limit_is_per_client_not_per_connection(make_grpc: MakeGrpc) -> None:
    service = await make_grpc(rate_limit_market=1)
    await service.stub.GetMarketOverview(pb.GetMarketOverviewRequest())

    # A local subchannel pool: a new TCP connection (new client port), not a shared one.
    async with grpc.aio.insecure_channel(
        service.target, options=[("grpc.use_local_subchannel_pool", 1)]
    ) as fresh:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await pb_grpc.MarketDataStub(fresh).GetMarketOverview(pb.GetMarketOverviewRequest())

    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_limits_can_be_disabled(make_grpc: MakeGrpc) -> None:
    service = await make_grpc(rate_limit_sentiment=1, rate_limit_enabled=False)

    for _ in range(3):
        await service.stub.GetSentiment(pb.GetSentimentRequest())


async def test_every_ohlcv_provider_failing_is_unavailable_naming_them(
    grpc_service: GrpcService, simulator: UpstreamSimulator
) -> None:
    simulator.set_fault("binance", "http_500")
    simulator.set_fault("kraken", "http_500")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await grpc_service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="BTC"))

    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "binance" in caught.value.details() and "kraken" in caught.value.details()
    meta = trailers(caught.value)
    assert set(json.loads(meta["error-details"])) == {"binance", "kraken"}
    assert meta["error-code"] == "PROVIDER_ERROR"
    assert meta["retry-after"] == "30"  # a 500 says nothing of when: the default (README)


async def test_every_price_provider_failing_is_unavailable(
    grpc_service: GrpcService, simulator: UpstreamSimulator
) -> None:
    for name in PRICE_PROVIDERS:
        simulator.set_fault(name, "http_503")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await grpc_service.stub.GetPrices(pb.GetPricesRequest(symbols=["BTC"]))

    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert set(json.loads(trailers(caught.value)["error-details"])) == set(PRICE_PROVIDERS)


class _BrokenHealth:
    """A GetHealth with a bug in it."""

    async def execute(self) -> HealthReport:
        raise KeyError("secret internal detail")


@pytest.fixture
async def broken_service(grpc_service: GrpcService) -> AsyncIterator[pb_grpc.MarketDataStub]:
    use_cases = dataclasses.replace(grpc_service.use_cases, get_health=_BrokenHealth())  # type: ignore[arg-type]
    settings = grpc_service.settings
    server = GrpcServer(settings, use_cases)
    # The fake fails the first health publication too, so publish nothing: start by hand.
    port = server._server.add_insecure_port("127.0.0.1:0")
    await server._server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield pb_grpc.MarketDataStub(channel)
    finally:
        await server._server.stop(None)


async def test_a_bug_is_internal_with_a_generic_message(broken_service: pb_grpc.MarketDataStub) -> None:
    with structlog.testing.capture_logs() as logs, pytest.raises(grpc.aio.AioRpcError) as caught:
        await broken_service.GetHealth(pb.GetHealthRequest())

    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in caught.value.details()
    assert trailers(caught.value)["error-code"] == "INTERNAL_ERROR"
    errors = [entry for entry in logs if entry["event"] == "unhandled error"]
    assert errors and isinstance(errors[0]["exc_info"], KeyError)


async def test_the_request_id_is_echoed(grpc_service: GrpcService) -> None:
    call = grpc_service.stub.GetHealth(pb.GetHealthRequest(), metadata=(("x-request-id", "abc-123"),))
    await call

    assert ("x-request-id", "abc-123") in tuple(await call.initial_metadata())
    assert ("x-request-id", "abc-123") in tuple(await call.trailing_metadata())


async def test_a_request_id_is_made_when_missing_or_unsafe(grpc_service: GrpcService) -> None:
    call = grpc_service.stub.GetHealth(pb.GetHealthRequest(), metadata=(("x-request-id", "bad id!"),))
    await call

    made = dict(tuple(await call.initial_metadata()))["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)


async def test_errors_carry_the_request_id_and_are_logged(grpc_service: GrpcService) -> None:
    with structlog.testing.capture_logs() as logs, pytest.raises(grpc.aio.AioRpcError) as caught:
        await grpc_service.stub.GetOhlcv(
            pb.GetOhlcvRequest(symbol="NOPE"), metadata=(("x-request-id", "req-42"),)
        )

    assert trailers(caught.value)["x-request-id"] == "req-42"
    access = [entry for entry in logs if entry["event"] == "rpc"]
    assert access == [
        {**access[0], "method": "/cryptodata.v1.MarketData/GetOhlcv", "status": "INVALID_ARGUMENT", "code": 3}
    ]
    assert "duration_ms" in access[0]


async def _access_line(logs: Sequence[Mapping[str, Any]], method: str) -> Mapping[str, Any]:
    """The access-log line of ``method``, once the server has written it."""
    async with asyncio.timeout(10):
        while True:
            for entry in logs:
                if entry["event"] == "rpc" and entry["method"].endswith(method):
                    return entry
            await asyncio.sleep(0.01)


async def _upstream_reached(simulator: UpstreamSimulator, provider: str) -> None:
    async with asyncio.timeout(10):
        while simulator.calls(provider) == 0:
            await asyncio.sleep(0.01)


async def test_a_passed_deadline_cancels_the_handler(
    grpc_service: GrpcService, simulator: UpstreamSimulator
) -> None:
    simulator.set_fault("binance", "timeout")  # the upstream hangs longer than the client waits

    with structlog.testing.capture_logs() as logs:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await grpc_service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="BTC"), timeout=0.3)
        line = await _access_line(logs, "GetOhlcv")

    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # The server saw the cancellation (it was not swallowed into an answer).
    assert line["status"] == "DEADLINE_EXCEEDED"
    await grpc_service.stub.GetHealth(pb.GetHealthRequest())  # and it still serves


async def test_a_client_cancel_cancels_the_handler(
    grpc_service: GrpcService, simulator: UpstreamSimulator
) -> None:
    simulator.set_fault("binance", "timeout")

    with structlog.testing.capture_logs() as logs:
        call = grpc_service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="ETH"))
        await _upstream_reached(simulator, "binance")  # the handler is waiting on it
        assert call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        line = await _access_line(logs, "GetOhlcv")

    assert line["status"] == "CANCELLED"
