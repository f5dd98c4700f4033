"""GetIndicators on a real gRPC server (port 0) against the frozen simulator: the same rows as
GET /api/indicators, and bad input refused like the other RPCs, before any upstream call."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from protos.cryptodata.v1 import market_data_pb2 as pb
from simulator import UpstreamSimulator
from tests.e2e import test_rest_support as support
from tests.e2e.conftest import MakeGrpc

simulator = support.simulator  # the REST service and the gRPC server see the same candles
start = support.start

ASKED = "rsi:14,macd:12:26:9,bbands:20:2:2,obv,mfi:10,atr,cdldoji"


def plain(value: pb.IndicatorValue) -> Any:
    """A message value as REST renders it: a number, null, or an object of outputs."""
    if value.outputs:
        return {name: o.value if o.HasField("value") else None for name, o in value.outputs.items()}
    return value.value if value.HasField("value") else None


async def test_rows_are_the_rest_rows(make_grpc: MakeGrpc, start: Any) -> None:
    grpc_service = await make_grpc(**support.GENEROUS_BUDGETS)
    rest = await start()
    answer = await grpc_service.stub.GetIndicators(
        pb.GetIndicatorsRequest(symbol="BTC", interval="1h", limit=30, indicators=ASKED)
    )
    body = await (await rest.get(f"/api/indicators?symbol=BTC&interval=1h&limit=30&indicators={ASKED}")).json()

    assert (answer.symbol, answer.interval, answer.source, answer.warmup, answer.count) == (
        body["symbol"], body["interval"], body["source"], body["warmup"], body["count"]
    )  # fmt: skip
    assert answer.warmup == 300 and answer.count == 30 and len(answer.rows) == 30
    assert not answer.stale and not answer.HasField("data_timestamp") and answer.timestamp > 0
    assert answer.live == body["live"]
    rows = [{"timestamp": r.timestamp, **{k: plain(v) for k, v in r.values.items()}} for r in answer.rows]
    assert rows == body["data"]
    first = answer.rows[0].values
    assert first["rsi_14"].HasField("value") and not first["rsi_14"].outputs
    assert set(first["macd_12_26_9"].outputs) == {"macd", "macdsignal", "macdhist"}
    assert not first["macd_12_26_9"].HasField("value")


async def test_limit_unset_is_100(make_grpc: MakeGrpc) -> None:
    service = await make_grpc(**support.GENEROUS_BUDGETS)
    answer = await service.stub.GetIndicators(pb.GetIndicatorsRequest(symbol="ETH", indicators="sma:5"))
    assert (answer.count, len(answer.rows), answer.warmup, answer.interval) == (100, 100, 4, "1h")


@pytest.mark.parametrize(
    ("request_", "field", "code"),
    [
        (pb.GetIndicatorsRequest(symbol="BTC", indicators="foo"), "indicators", "INVALID_PARAMETER"),
        (pb.GetIndicatorsRequest(symbol="BTC", indicators="mavp"), "indicators", "INVALID_PARAMETER"),
        (pb.GetIndicatorsRequest(symbol="BTC", indicators="rsi:0"), "indicators", "INVALID_PARAMETER"),
        (pb.GetIndicatorsRequest(symbol="BTC", indicators="rsi:14.5"), "indicators", "INVALID_PARAMETER"),
        (pb.GetIndicatorsRequest(symbol="BTC", indicators="ema:1000"), "indicators", "INVALID_PARAMETER"),
        (pb.GetIndicatorsRequest(symbol="BTC"), "indicators", "INVALID_PARAMETER"),  # missing
        (pb.GetIndicatorsRequest(symbol="BTC", limit=0, indicators="rsi"), "limit", "INVALID_PARAMETER"),
        (pb.GetIndicatorsRequest(symbol="BTC", limit=1001, indicators="rsi"), "limit", "INVALID_PARAMETER"),
        (pb.GetIndicatorsRequest(symbol="DOGE", indicators="rsi"), "symbol", "INVALID_SYMBOL"),
    ],
)
async def test_bad_input_is_invalid_argument_before_any_upstream_call(
    make_grpc: MakeGrpc, simulator: UpstreamSimulator, request_: pb.GetIndicatorsRequest, field: str, code: str
) -> None:
    service = await make_grpc()
    before = len(simulator.requests)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.GetIndicators(request_)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    trailers = dict(caught.value.trailing_metadata() or ())
    assert (trailers["error-code"], trailers["error-field"]) == (code, field)
    assert caught.value.details().startswith(field), caught.value.details()
    assert len(simulator.requests) == before


async def test_counted_against_the_ohlcv_limit(make_grpc: MakeGrpc) -> None:
    service = await make_grpc(rate_limit_enabled=True, rate_limit_ohlcv=2, **support.GENEROUS_BUDGETS)
    await service.stub.GetIndicators(pb.GetIndicatorsRequest(symbol="BTC", limit=5, indicators="rsi"))
    await service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="BTC", limit=5))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.GetIndicators(pb.GetIndicatorsRequest(symbol="BTC", limit=5, indicators="rsi"))
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert dict(caught.value.trailing_metadata() or ())["x-ratelimit-limit"] == "2"
