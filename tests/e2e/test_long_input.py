"""No answer repeats more than 64 characters of what the client sent (../shared/API.md).

gRPC takes a 17,000-character symbol in a message; REST's request line is capped by the HTTP
parser at 8190 bytes, so its inputs here are 8,000 characters (longer URLs are the parser's
business: 414). Error messages quote input as ``'AAAA…' (8000 characters)``: its first 64
characters and its length.
"""

from __future__ import annotations

import re
from typing import Any

import grpc
import pytest

from protos.cryptodata.v1 import market_data_pb2 as pb
from tests.e2e import test_rest_support as support
from tests.e2e.conftest import GrpcService
from tests.e2e.test_rest_support import SUPPORTED, error_of

simulator = support.simulator
start = support.start

INTERVALS = "1m, 5m, 15m, 1h, 4h, 1d, 1w"
BASES = ", ".join(sorted(SUPPORTED))


def longest_run(text: str, unit: str) -> int:
    """Characters in the longest run of ``unit`` repeated in ``text``: how much of an input
    made of ``unit`` over and over was echoed."""
    return max((len(run) for run in re.findall(f"(?:{re.escape(unit)})+", text)), default=0)


def quoted(unit: str, length: int) -> str:
    """How a message quotes an input of ``length`` characters made of ``unit`` repeated."""
    return f"'{(unit * 64)[:64]}…' ({length} characters)"


# -- REST ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "code", "field", "message", "char"),
    [
        ("/api/ohlcv?symbol=" + "A" * 8000, "INVALID_SYMBOL", "symbol",
         f"malformed symbol {quoted('A', 8000)}", "A"),
        ("/api/ohlcv?symbol=BTC&interval=" + "B" * 8000, "INVALID_INTERVAL", "interval",
         f"unsupported interval {quoted('B', 8000)}; use one of {INTERVALS}", "B"),
        ("/api/ohlcv?symbol=BTC&timeframe=" + "B" * 8000, "INVALID_INTERVAL", "interval",
         f"unsupported interval {quoted('B', 8000)}; use one of {INTERVALS}", "B"),
        ("/api/ohlcv?symbol=BTC&limit=" + "9" * 8000, "INVALID_PARAMETER", "limit",
         f"limit must be a whole number, got {quoted('9', 8000)}", "9"),
        ("/api/prices?symbols=BTC," + "C" * 8000, "INVALID_SYMBOL", "symbols",
         f"malformed symbol {quoted('C', 8000)}", "C"),
        ("/api/prices?symbols=" + "BTC," * 2000 + ",", "INVALID_SYMBOL", "symbols",
         f"empty entry in symbol list {quoted('BTC,', 8001)}", "BTC,"),
    ],  # fmt: skip
    ids=["symbol", "interval", "timeframe", "limit", "symbols", "symbol-list"],
)
async def test_rest_quotes_at_most_64_characters_of_a_long_parameter(start, path, code, field, message, char):
    service = await start()
    response = await service.get(path)
    error = await error_of(response, 400, code)
    assert error["message"] == message
    assert error["details"] == {"field": field}
    assert longest_run(await response.text(), char) == 64


async def test_rest_quotes_a_long_asset_path_at_most_64_characters_deep(start):
    service = await start()
    response = await service.get("/docs/static/swagger-ui/" + "e" * 8000)
    error = await error_of(response, 404, "NOT_FOUND")
    shown = "/docs/static/swagger-ui/" + "e" * 40  # the path's first 64 characters
    assert error["message"] == f"no such asset: '{shown}…' (8024 characters)"
    assert longest_run(await response.text(), "e") == 40


@pytest.mark.parametrize(("given", "echoed"), [("r" * 64, True), ("r" * 65, False)])
async def test_rest_echoes_a_request_id_of_at_most_64_characters(start, given, echoed):
    service = await start()
    response = await service.get("/api/health", headers={"X-Request-ID": given})
    assert (response.headers["X-Request-ID"] == given) is echoed
    assert longest_run(response.headers["X-Request-ID"], "r") <= 64


# -- gRPC ---------------------------------------------------------------------------------


def _trailers(error: grpc.aio.AioRpcError) -> dict[str, str]:
    return {key: value for key, value in error.trailing_metadata() or ()}


async def _refused(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


@pytest.mark.parametrize(
    ("request_", "code", "field", "details", "char"),
    [
        (pb.GetOhlcvRequest(symbol="A" * 17000), "INVALID_SYMBOL", "symbol",
         f"symbol: malformed symbol {quoted('A', 17000)}", "A"),
        (pb.GetOhlcvRequest(symbol="BTC", interval="B" * 17000), "INVALID_INTERVAL", "interval",
         f"interval: unsupported interval {quoted('B', 17000)}; use one of {INTERVALS}", "B"),
        (pb.GetOhlcvRequest(symbol="BTC", limit=2**31 - 1), "INVALID_PARAMETER", "limit",
         f"limit must be between 1 and 1000, got {2**31 - 1}", "9"),
    ],  # fmt: skip
    ids=["symbol", "interval", "limit"],
)
async def test_grpc_get_ohlcv_quotes_at_most_64_characters(
    grpc_service: GrpcService, request_: pb.GetOhlcvRequest, code: str, field: str, details: str, char: str
) -> None:
    error = await _refused(grpc_service.stub.GetOhlcv(request_))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT  # not RESOURCE_EXHAUSTED (metadata too large)
    assert error.details() == details
    trailers = _trailers(error)
    assert (trailers["error-code"], trailers["error-field"]) == (code, field)
    assert max(longest_run(value, char) for value in trailers.values()) <= 64


async def test_grpc_get_prices_quotes_at_most_64_characters(grpc_service: GrpcService) -> None:
    error = await _refused(grpc_service.stub.GetPrices(pb.GetPricesRequest(symbols=["BTC", "C" * 17000])))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == f"symbols: malformed symbol {quoted('C', 17000)}"
    assert _trailers(error)["error-code"] == "INVALID_SYMBOL"


async def test_grpc_stream_prices_quotes_at_most_64_characters(grpc_service: GrpcService) -> None:
    stream = grpc_service.stub.StreamPrices(pb.StreamPricesRequest(symbols=["C" * 17000]))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in stream:
            pass
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == f"symbols: malformed symbol {quoted('C', 17000)}"


@pytest.mark.parametrize(("given", "echoed"), [("r" * 64, True), ("r" * 65, False)])
async def test_grpc_echoes_a_request_id_of_at_most_64_characters(
    grpc_service: GrpcService, given: str, echoed: bool
) -> None:
    call = grpc_service.stub.GetHealth(pb.GetHealthRequest(), metadata=(("x-request-id", given),))
    await call
    trailers = {key: value for key, value in await call.trailing_metadata()}
    assert (trailers["x-request-id"] == given) is echoed
