"""What every REST answer carries and refuses at the edge (issue 13): the Server header, the
root pointer, repeated query parameters."""

from __future__ import annotations

import importlib.metadata

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.e2e import test_rest_support as support
from tests.e2e.test_rest_support import data_of, error_of

simulator = support.simulator
start = support.start


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/api/ohlcv?symbol=BTC&limit=1", {}, 200),
        ("GET", "/api/health", {}, 200),
        ("GET", "/docs", {}, 200),
        ("GET", "/", {}, 200),
        ("GET", "/api/ohlcv?symbol=NOPE", {}, 400),
        ("POST", "/api/cache/clear", {}, 401),
        ("GET", "/api/nowhere", {}, 404),
        ("DELETE", "/api/prices", {}, 405),
        ("OPTIONS", "/api/prices", {"Origin": "https://a.example", "Access-Control-Request-Method": "GET"}, 204),
        ("POST", "/api/cache/clear", {"Authorization": f"Bearer {ADMIN_TOKEN}"}, 200),
    ],
)
async def test_the_server_header_names_the_service_without_versions(start, method, path, headers, status):
    service = await start()
    response = await service.request(method, path, headers=headers)
    assert response.status == status
    assert response.headers.getall("Server") == ["crypto-data-engine"]


async def test_the_root_points_at_the_documentation_and_health(start, simulator):
    service = await start()
    response = await service.get("/")
    assert response.status == 200 and response.content_type == "application/json"
    assert await response.json() == {
        "name": "crypto-data-engine",
        "version": importlib.metadata.version("crypto-data-engine"),
        "docs": "/docs",
        "redoc": "/redoc",
        "openapi": "/openapi.json",
        "health": "/api/health",
    }
    for key in ("docs", "redoc", "openapi", "health"):  # every pointer answers
        assert (await service.get((await response.json())[key])).status == 200
    assert sum(simulator.call_counts().values()) == 0


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/ohlcv?symbol=BTC&limit=5&limit=abc", "limit"),
        ("/api/ohlcv?symbol=BTC&limit=5&limit=5", "limit"),
        ("/api/ohlcv?symbol=BTC&symbol=ETH", "symbol"),
        ("/api/ohlcv?interval=1h&symbol=BTC&interval=4h", "interval"),
        ("/api/ohlcv?symbol=BTC&timeframe=1h&timeframe=1h", "timeframe"),
        ("/api/ohlcv?symbol=BTC&debug=1&debug=2", "debug"),  # any parameter, even one not read
        ("/api/prices?symbols=BTC&symbols=ETH", "symbols"),
    ],
)
async def test_a_repeated_query_parameter_is_refused_naming_it(start, simulator, path, field):
    service = await start()
    error = await error_of(await service.get(path), 400, "INVALID_PARAMETER")
    assert error["details"] == {"field": field}
    assert error["message"] == f"parameter '{field}' is given more than once"
    assert sum(simulator.call_counts().values()) == 0


async def test_a_long_repeated_parameter_is_named_by_its_first_64_characters(start):
    service = await start()
    name = "n" * 3000
    error = await error_of(await service.get(f"/api/prices?{name}=1&{name}=2"), 400, "INVALID_PARAMETER")
    assert error["details"] == {"field": "n" * 64}
    assert error["message"] == f"parameter '{'n' * 64}…' (3000 characters) is given more than once"


async def test_distinct_parameters_still_pass(start):
    service = await start()
    body = await data_of(await service.get("/api/ohlcv?symbol=BTC&interval=1h&limit=2&extra=1"))
    assert body["count"] == 2
