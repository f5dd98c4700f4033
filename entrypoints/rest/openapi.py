"""The OpenAPI 3.1 document of the REST API, generated from the models of ``schemas``.

The only hand-written parts are the route table (path, method, parameters, which responses)
and prose; every body shape comes from the pydantic models the handlers render with, and
every sample answer from the rendering code itself (``examples``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic.json_schema import models_json_schema

from domain.candle import DEFAULT_CANDLES, MAX_CANDLES
from domain.time_range import DEFAULT_RANGE_CANDLES, MAX_RANGE_CANDLES
from entrypoints import __version__
from entrypoints.rest import examples, schemas
from entrypoints.rest.history_openapi import (
    EXPORT_DESCRIPTION,
    export_content,
    export_parameters,
    range_parameters,
)
from entrypoints.rest.indicator_openapi import INDICATORS_DESCRIPTION, indicator_parameters
from entrypoints.rest.live import schemas as live_schemas
from entrypoints.rest.live.openapi import live_paths
from entrypoints.rest.stream_headers import EXPORT_PATH, LIVE_PATHS

REF = "#/components/schemas/{model}"

_ERRORS = {
    400: "Bad parameter: INVALID_SYMBOL, INVALID_INTERVAL or INVALID_PARAMETER (no upstream is called).",
    401: "UNAUTHORIZED: no `Authorization: Bearer <ADMIN_TOKEN>` header.",
    403: "FORBIDDEN: wrong admin token, or no ADMIN_TOKEN is configured.",
    404: "NOT_FOUND: the feature is disabled (ENABLE_SENTIMENT=false).",
    429: "RATE_LIMITED: the client is over its per-minute limit (admin: 5 failed tokens a minute); "
    "see `Retry-After`.",
    503: "PROVIDER_ERROR: every provider failed and nothing is cached; `details` maps provider id to reason. "
    "SERVICE_UNAVAILABLE: this instance is shutting down and could not finish in time, or is at its "
    "connection limit; retry.",
    500: "INTERNAL_ERROR: a bug; the body holds no internals, the logs have them under the request id.",
}
_LIVE_ERRORS = {
    400: "Bad parameter (INVALID_SYMBOL, INVALID_INTERVAL, INVALID_PARAMETER), or `/ws` without a WebSocket "
    "handshake: answered before any stream starts.",
    404: "NOT_FOUND: live streams are switched off (STREAM_ENABLED=false).",
    503: "PROVIDER_ERROR: no snapshot could be had (every provider failed, nothing cached). SERVICE_UNAVAILABLE: "
    "this instance is shutting down; connect again (to another instance).",
}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
}


@dataclass(frozen=True)
class Operation:
    """One route as documented: the 200 model, the error statuses, the query parameters."""

    method: str
    path: str
    summary: str
    model: type[schemas.ApiModel]
    errors: tuple[int, ...]
    tag: str
    parameters: list[dict[str, Any]] = field(default_factory=list)
    admin: bool = False
    #: Other shapes of the 200 answer (``/api/ohlcv`` with ``start`` answers a range page).
    also: tuple[type[schemas.ApiModel], ...] = ()
    #: The 200's media types when it is not ``model`` as JSON (the export), and what it says.
    content: dict[str, Any] | None = None
    description: str | None = None


def _query(name: str, description: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def operations(
    intervals: tuple[str, ...], symbols: tuple[str, ...], functions: tuple[str, ...] = ()
) -> list[Operation]:
    """The route table: every route of ``routes.setup_routes`` but the documentation's own
    (``functions``: the indicator functions offered)."""
    interval = {"type": "string", "enum": list(intervals), "default": "1h"}
    symbol = _query("symbol", "Base asset or pair: `BTC`, `BTCUSDT`, `BTC/USDT` and `btc-usdt` all mean "
                    f"BTC/USDT. Supported bases: {', '.join(symbols)}.",
                    {"type": "string", "minLength": 1, "examples": ["BTC"]}, required=True)  # fmt: skip
    limited = (400, 429, 503, 500)
    return [
        Operation("get", "/api/ohlcv", "OHLCV candles of one market, oldest first", schemas.OhlcvResponse,
                  limited, "market data", [
                      symbol,
                      _query("interval", "Candle interval.", interval),
                      _query("timeframe", "Alias of `interval`, used when `interval` is absent.", interval),
                      _query("limit", f"Number of candles: 1..{MAX_CANDLES}, default {DEFAULT_CANDLES}; with "
                             f"`start`, candles a page: 1..{MAX_RANGE_CANDLES}, default {DEFAULT_RANGE_CANDLES}.",
                             {"type": "integer", "minimum": 1, "maximum": MAX_RANGE_CANDLES}),
                      *range_parameters(_query),
                  ], also=(schemas.OhlcvRangeResponse,)),
        Operation("get", EXPORT_PATH, "A whole candle range as a CSV or NDJSON download", schemas.ErrorResponse,
                  limited, "market data", export_parameters(_query, symbol, interval), content=export_content(),
                  description=EXPORT_DESCRIPTION),
        Operation("get", "/api/indicators", "Technical indicators (TA-Lib) over one market's candles",
                  schemas.IndicatorsResponse, limited, "market data",
                  indicator_parameters(_query, symbol, interval, functions), description=INDICATORS_DESCRIPTION),
        Operation("get", "/api/prices", "Combined USD prices", schemas.PricesResponse, limited, "market data", [
            _query("symbols", "Comma list of base assets (or pairs); none means every supported symbol.",
                   {"type": "string", "examples": ["BTC,ETH,SOL"]}),
        ]),
        Operation("get", "/api/sentiment", "Fear & Greed index and the overall mood", schemas.SentimentResponse,
                  (404, 429, 503, 500), "market data"),
        Operation("get", "/api/market/overview", "The whole market at a glance", schemas.MarketOverviewResponse,
                  (429, 503, 500), "market data"),
        Operation("get", "/api/health", "Service and provider health (not rate limited)", schemas.HealthResponse,
                  (503, 500), "operations"),
        Operation("get", "/api/cache/stats", "Cache counters", schemas.CacheStatsResponse, (500,), "operations"),
        Operation("post", "/api/cache/clear", "Empty the cache (admin)", schemas.CacheClearResponse,
                  (401, 403, 429, 500), "operations", admin=True),
        Operation("get", "/", "Where to start: the documentation and health", schemas.ServiceIndex, (500,),
                  "operations"),
    ]  # fmt: skip


def _operation_name(path: str) -> str:
    """``/api/market/overview`` → ``market_overview``; ``/`` → ``index``."""
    return path.removeprefix("/api/").replace("/", "_").strip("_") or "index"


def _json(
    model: type[schemas.ApiModel], samples: dict[str, Any], also: tuple[type[schemas.ApiModel], ...] = ()
) -> dict[str, Any]:
    refs = [{"$ref": REF.format(model=m.__name__)} for m in (model, *also)]
    schema = refs[0] if not also else {"anyOf": refs}
    return {"application/json": {"schema": schema, "examples": samples}}


def _responses(op: Operation) -> dict[str, Any]:
    if op.content is not None:  # not JSON (the export's CSV and NDJSON)
        responses: dict[str, Any] = {"200": {"description": "The range, streamed", "content": op.content}}
        responses.update(_error_responses(op.path, op.errors))
        return responses
    samples = examples.success(op.model)
    for alternative in op.also:
        samples.update(examples.success(alternative))
    ok = _json(op.model, samples, op.also)
    responses = {"200": {"description": "OK", "content": ok}}
    if op.model is schemas.HealthResponse and 503 in op.errors:
        responses["503"] = {"description": "Unhealthy: the service cannot serve any data.",
                            "content": _json(op.model, examples.unhealthy())}  # fmt: skip
    responses.update(_error_responses(op.path, tuple(s for s in op.errors if str(s) not in responses)))
    return responses


def _error_responses(path: str, statuses: tuple[int, ...]) -> dict[str, Any]:
    """The error answers ``statuses`` of ``path``, each with its sample envelope."""
    responses: dict[str, Any] = {}
    for status in statuses:
        description = _LIVE_ERRORS.get(status, _ERRORS[status]) if path in LIVE_PATHS else _ERRORS[status]
        responses[str(status)] = {
            "description": description,
            "content": _json(schemas.ErrorResponse, examples.failure(status, path)),
        }
        if status in (429, 503):
            responses[str(status)]["headers"] = _RETRY_AFTER
    return responses


def component_schemas() -> dict[str, Any]:
    """JSON schemas of every response model, as OpenAPI components."""
    _, top = models_json_schema(
        [(model, "serialization") for model in (*schemas.RESPONSE_MODELS, *live_schemas.LIVE_MODELS)],
        ref_template=REF,
    )
    return dict(top["$defs"])


_METRICS = {
    "get": {
        "summary": "Prometheus metrics (METRICS_ENABLED)",
        "description": "Requests by route and status with latency, upstream calls by provider and outcome "
        "with latency, circuit states, cache hits/misses/stale serves, single-flight joins and rate-limited "
        "requests, in Prometheus' text exposition format.",
        "operationId": "get_metrics",
        "parameters": [],
        "tags": ["operations"],
        "responses": {
            "200": {
                "description": "OK",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "500": {
                "description": _ERRORS[500],
                "content": _json(schemas.ErrorResponse, examples.failure(500, "/metrics")),
            },
        },
    }
}


@lru_cache(maxsize=8)
def document(
    intervals: tuple[str, ...], symbols: tuple[str, ...], metrics: bool = True, functions: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The whole OpenAPI document for a service supporting ``intervals``, ``symbols`` and the
    indicator ``functions``."""
    paths: dict[str, Any] = {}
    for op in operations(intervals, symbols, functions):
        entry: dict[str, Any] = {
            "summary": op.summary,
            **({"description": op.description} if op.description else {}),
            "operationId": f"{op.method}_{_operation_name(op.path)}",
            "tags": [op.tag],
            "parameters": op.parameters,
            "responses": _responses(op),
        }
        if op.admin:
            entry["security"] = [{"adminToken": []}]
        paths.setdefault(op.path, {})[op.method] = entry
    interval = {"type": "string", "enum": list(intervals), "default": "1h"}
    paths.update(live_paths(_query, interval, _error_responses))
    if metrics:
        paths["/metrics"] = _METRICS
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Crypto Data Engine",
            "version": __version__,
            "description": "Candles (the newest, or any range of history, also as a CSV or NDJSON download), "
            "technical indicators over them (any TA-Lib function of candle fields), "
            "prices, sentiment and market overview aggregated from public providers, "
            "and live candles and prices over a WebSocket (`/ws`) and Server-Sent Events (`/api/stream/*`). "
            "Data responses share the envelope `{success, data, timestamp, stale}`; every error is "
            "`{success: false, error: {code, message, details, retryAfter}, timestamp}`. In sandbox mode "
            "(`serve --sandbox`) the data is simulated: every response carries `X-Data-Mode: sandbox` and "
            'every JSON answer `"sandbox": true`.',
        },
        "tags": [{"name": "market data"}, {"name": "live data"}, {"name": "operations"}],
        "paths": paths,
        "components": {
            "schemas": component_schemas(),
            "securitySchemes": {
                "adminToken": {"type": "http", "scheme": "bearer", "description": "The ADMIN_TOKEN setting."}
            },
        },
    }
