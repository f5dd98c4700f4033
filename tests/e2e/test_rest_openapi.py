"""The API documents itself: /openapi.json, Swagger UI at /docs, ReDoc at /redoc, all offline.

The last test lets schemathesis loose on the running service with its own document: no 5xx,
every status and body as documented, invalid inputs rejected.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from entrypoints.rest import schemas
from tests.conftest import ADMIN_TOKEN

DOC_ROUTES = {"/openapi.json", "/docs", "/redoc"}
ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


async def test_openapi_document_is_valid_and_covers_every_route(service):
    response = await service.get("/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    document = await response.json()
    assert document["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(document).validate()  # against the OpenAPI meta-schema

    served = {
        (route.method.lower(), route.resource.canonical)
        for route in service.server.app.router.routes()
        if route.method not in ("HEAD", "*") and route.resource is not None
        and route.resource.canonical not in DOC_ROUTES and not route.resource.canonical.startswith("/docs/")
    }  # fmt: skip
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert served == documented
    for path, item in document["paths"].items():
        for method, operation in item.items():
            success = "101" if path == "/ws" else "200"  # the WebSocket's upgrade
            assert success in operation["responses"], (method, path)
            assert "500" in operation["responses"], (method, path)
    stream = document["paths"]["/api/stream/candles"]["get"]["responses"]["200"]["content"]
    assert list(stream) == ["text/event-stream"]
    for name in ("ClientMessage", "SubscribedMessage", "CandlesMessage", "PricesMessage", "ErrorMessage"):
        assert name in document["components"]["schemas"]


async def test_openapi_schemas_are_the_models_the_handlers_render_with(service):
    document = await (await service.get("/openapi.json")).json()
    components = document["components"]["schemas"]
    for model in schemas.RESPONSE_MODELS:
        assert components[model.__name__]["properties"].keys() == {
            field.alias or name for name, field in model.model_fields.items()
        }
    ohlcv = document["paths"]["/api/ohlcv"]["get"]
    params = {p["name"]: p for p in ohlcv["parameters"]}
    assert set(params) == {"symbol", "interval", "timeframe", "limit", "start", "end"}
    assert params["symbol"]["required"] is True
    assert params["limit"]["schema"]["maximum"] == 10_000  # with start; 1000 without
    assert set(ohlcv["responses"]) == {"200", "400", "429", "503", "500"}
    assert ohlcv["responses"]["200"]["content"]["application/json"]["schema"] == {
        "anyOf": [{"$ref": "#/components/schemas/OhlcvResponse"}, {"$ref": "#/components/schemas/OhlcvRangeResponse"}]
    }
    export = document["paths"]["/api/ohlcv/export"]["get"]
    assert {p["name"]: p["required"] for p in export["parameters"]} == {
        "symbol": True, "interval": False, "timeframe": False, "start": True, "end": False, "format": False
    }  # fmt: skip
    assert list(export["responses"]["200"]["content"]) == ["text/csv", "application/x-ndjson"]
    assert set(export["responses"]) == {"200", "400", "429", "503", "500"}
    assert ohlcv["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorResponse"
    )
    clear = document["paths"]["/api/cache/clear"]["post"]
    assert {"401", "403"} <= set(clear["responses"])
    assert clear["security"] == [{"adminToken": []}]


async def test_documented_bodies_match_served_bodies(service):
    """The shapes of real answers validate against the models (and so against the document)."""
    cases = [
        ("/api/ohlcv?symbol=BTC&interval=1h&limit=5", schemas.OhlcvResponse),
        ("/api/indicators?symbol=BTC&limit=3&indicators=rsi,macd", schemas.IndicatorsResponse),
        ("/api/prices?symbols=BTC,ETH", schemas.PricesResponse),
        ("/api/sentiment", schemas.SentimentResponse),
        ("/api/market/overview", schemas.MarketOverviewResponse),
        ("/api/health", schemas.HealthResponse),
        ("/api/cache/stats", schemas.CacheStatsResponse),
        ("/api/ohlcv?symbol=NOPE", schemas.ErrorResponse),
        ("/api/nowhere", schemas.ErrorResponse),
    ]
    for path, model in cases:
        body = await (await service.get(path)).json()
        assert model.model_validate(body).body().keys() >= body.keys(), path


@pytest.mark.parametrize(
    ("page", "script"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")]
)
async def test_docs_pages_load_every_asset_from_the_service(service, page, script):
    response = await service.get(page)
    assert response.status == 200
    assert response.content_type == "text/html"
    html = await response.text()
    assert "http://" not in html and "https://" not in html and "//" not in html.replace("<!--", "")
    assets = ASSET.findall(html)
    assert any(url.endswith(script) for url in assets)
    assert "openapi.json" in html
    for url in assets:
        asset = await service.get("/" + url)  # relative to the service root, where the page lives
        assert asset.status == 200, url
        assert len(await asset.read()) > 0


async def test_vendored_assets_carry_their_licences(service):
    for path in ("/docs/static/swagger-ui/LICENSE", "/docs/static/redoc/LICENSE"):
        assert (await service.get(path)).status == 200
    missing = await service.get("/docs/static/swagger-ui/nothing.js")
    assert missing.status == 404
    assert (await missing.json())["error"]["code"] == "NOT_FOUND"


def _run(operation: Any, mode: GenerationMode, base_url: str) -> None:
    """Up to 20 examples of one operation in one generation mode, each called and validated."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"} if operation.method.upper() == "POST" else None

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=20, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def check(case: Any) -> None:
        # Schema-valid is not enough to be accepted: an unknown symbol is a 400 by contract.
        case.call_and_validate(base_url=base_url, headers=headers, timeout=10,
                               excluded_checks=[positive_data_acceptance])  # fmt: skip

    check()


def _streams(document: dict[str, Any]) -> set[tuple[str, str]]:
    """The live data operations: streams that stay open, which a fuzzer's request would wait
    on for ever (their own suites test them: test_live_ws, test_live_sse); and the export, a
    download of a whole range that a fuzzed ``start=0`` would make decades of candles long
    (test_rest_export tests it, refusals included)."""
    return {(method.upper(), path) for path, item in document["paths"].items() for method, operation in item.items()
            if "live data" in operation["tags"] or path == "/api/ohlcv/export"}  # fmt: skip


def _fuzz(document: dict[str, Any], base_url: str) -> list[str]:
    """Run schemathesis over every operation but the streams (blocking: call it off the event loop)."""
    schema = schemathesis.openapi.from_dict(document)
    streams = _streams(document)
    ran = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in streams:
            continue
        has_parameters = bool(document["paths"][operation.path][operation.method.lower()]["parameters"])
        _run(operation, GenerationMode.POSITIVE, base_url)
        if has_parameters:  # negative data needs something to break
            _run(operation, GenerationMode.NEGATIVE, base_url)
        ran.append(f"{operation.method.upper()} {operation.path}")
    return ran


async def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(make_service):
    service = await make_service(rate_limit_enabled=False)
    document = await (await service.get("/openapi.json")).json()
    base_url = str(service.make_url("/")).rstrip("/")
    assert base_url.startswith("http://127.0.0.1:")
    ran = await asyncio.to_thread(_fuzz, document, base_url)
    assert len(_streams(document)) == 4
    assert len(ran) == sum(len(item) for item in document["paths"].values()) - 4
