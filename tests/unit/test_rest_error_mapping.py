"""entrypoints/rest/errors.py: the one mapping from errors to HTTP statuses and envelope codes."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp import web

from domain.errors import (
    AllProvidersFailed,
    FeatureDisabled,
    InvalidInterval,
    InvalidParameter,
    InvalidSymbol,
)
from entrypoints.rest.errors import ApiError, response_for


def _error_of(response: web.Response | None) -> tuple[int, dict[str, Any]]:
    assert response is not None and response.body is not None
    assert response.content_type == "application/json"
    body = orjson.loads(response.body)  # type: ignore[arg-type]
    assert body["success"] is False
    return response.status, body["error"]


@pytest.mark.parametrize(
    ("error", "code", "field"),
    [
        (InvalidSymbol("unknown symbol 'DOGE'", field="symbol"), "INVALID_SYMBOL", "symbol"),
        (InvalidInterval("unsupported interval '7m'", field="interval"), "INVALID_INTERVAL", "interval"),
        (InvalidParameter("limit must be between 1 and 1000", field="limit"), "INVALID_PARAMETER", "limit"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(error: Exception, code: str, field: str) -> None:
    status, body = _error_of(response_for(error))
    assert status == 400
    assert body["code"] == code
    assert body["message"] == str(error)
    assert body["details"] == {"field": field}
    assert body["retryAfter"] is None


def test_all_providers_failed_is_a_503_with_each_reason_and_retry_after() -> None:
    error = AllProvidersFailed({"binance": "timed out", "kraken": "rate limited us (429)"}, retry_after=12.2)
    response = response_for(error)
    status, body = _error_of(response)
    assert status == 503 and body["code"] == "PROVIDER_ERROR"
    assert body["details"] == {"binance": "timed out", "kraken": "rate limited us (429)"}
    assert body["retryAfter"] == 13  # whole seconds, rounded up: never ask back too early
    assert response is not None and response.headers["Retry-After"] == "13"


@pytest.mark.parametrize(("retry_after", "seconds"), [(0.0, 1), (0.0004, 1), (None, 30)])
def test_a_wait_that_has_passed_is_one_second_not_the_default(retry_after: float | None, seconds: int) -> None:
    response = response_for(AllProvidersFailed({"kraken": "our request budget is spent"}, retry_after=retry_after))
    assert _error_of(response)[1]["retryAfter"] == seconds
    assert response is not None and response.headers["Retry-After"] == str(seconds)


def test_a_disabled_feature_is_not_found() -> None:
    status, body = _error_of(response_for(FeatureDisabled("sentiment is switched off")))
    assert (status, body["code"], body["message"]) == (404, "NOT_FOUND", "sentiment is switched off")


def test_an_edge_error_keeps_its_own_status_code_and_details() -> None:
    status, body = _error_of(
        response_for(ApiError(401, "UNAUTHORIZED", "missing token", {"scheme": "Bearer"}))
    )
    assert (status, body["code"], body["details"]) == (401, "UNAUTHORIZED", {"scheme": "Bearer"})


@pytest.mark.parametrize(
    ("exception", "status", "code"),
    [
        (web.HTTPBadRequest(), 400, "INVALID_PARAMETER"),
        (web.HTTPNotFound(), 404, "NOT_FOUND"),
        (web.HTTPMethodNotAllowed("DELETE", ["GET"]), 405, "METHOD_NOT_ALLOWED"),
        (web.HTTPRequestEntityTooLarge(max_size=65536, actual_size=100_000), 413, "PAYLOAD_TOO_LARGE"),
        (web.HTTPConflict(), 409, "INVALID_PARAMETER"),  # any other 4xx: the client's to fix
        (web.HTTPBadGateway(), 502, "INTERNAL_ERROR"),  # any other 5xx: ours
        (web.HTTPServiceUnavailable(), 503, "INTERNAL_ERROR"),
    ],
)
def test_framework_errors_are_mapped_to_envelope_codes(
    exception: web.HTTPException, status: int, code: str
) -> None:
    response = response_for(exception)
    got_status, body = _error_of(response)
    assert (got_status, body["code"]) == (status, code)
    assert body["message"] == exception.reason


def test_method_not_allowed_keeps_its_allow_header() -> None:
    response = response_for(web.HTTPMethodNotAllowed("DELETE", ["GET", "POST"]))
    assert response is not None and set(response.headers["Allow"].split(",")) == {"GET", "POST"}


def test_a_bug_is_not_mapped() -> None:
    assert response_for(KeyError("x")) is None  # the middleware answers 500 INTERNAL_ERROR
