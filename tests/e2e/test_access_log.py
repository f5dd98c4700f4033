"""The access log as production writes it: logging configured for JSON, the service run by its
runner (one container, both servers), a line per REST request, unary RPC and stream, each
with the request id its edge bound, all written by the time the service has stopped."""

from __future__ import annotations

import json
from collections.abc import Iterator

import aiohttp
import grpc
import pytest

from entrypoints.log import configure_logging
from entrypoints.serve import Service
from protos.cryptodata.v1 import market_data_pb2 as pb
from protos.cryptodata.v1 import market_data_pb2_grpc as pb_grpc
from simulator import UpstreamSimulator
from tests.conftest import configure_test_logging, settings_for


@pytest.fixture
def json_logging() -> Iterator[None]:
    configure_logging("INFO", "json", secrets=[])
    yield
    configure_test_logging()


@pytest.mark.usefixtures("json_logging")
async def test_every_request_rpc_and_stream_gets_one_line_with_its_request_id(
    simulator: UpstreamSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    service = Service(settings_for(simulator, grpc_port=0, shutdown_grace=1.0))
    await service.start()
    try:
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{service.rest_port}/api/health"
            async with http.get(url, headers={"X-Request-ID": "trace-rest"}) as response:
                assert response.status == 200
        async with grpc.aio.insecure_channel(f"127.0.0.1:{service.grpc_port}") as channel:
            stub = pb_grpc.MarketDataStub(channel)
            await stub.GetHealth(pb.GetHealthRequest(), metadata=(("x-request-id", "trace-rpc"),))
            stream = stub.StreamPrices(
                pb.StreamPricesRequest(symbols=["BTC"]), metadata=(("x-request-id", "trace-stream"),)
            )
            await stream.read()
            stream.cancel()
    finally:
        await service.stop()

    records = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    access = {record["request_id"]: record for record in records if record["logger"] == "access"}
    assert set(access) == {"trace-rest", "trace-rpc", "trace-stream"}
    assert {key: access["trace-rest"][key] for key in ("event", "method", "path", "status")} == {
        "event": "request",
        "method": "GET",
        "path": "/api/health",
        "status": 200,
    }
    assert (access["trace-rpc"]["event"], access["trace-rpc"]["status"]) == ("rpc", "OK")
    assert access["trace-stream"]["method"].endswith("/StreamPrices")
    assert access["trace-stream"]["messages"] >= 1
