"""The sample answers Swagger UI and ReDoc show are answers this service could give (issue 13:
ReDoc's sample 200 said ``stale: true, dataTimestamp: null, sandbox: null``)."""

from __future__ import annotations

from typing import Any

from entrypoints.rest import schemas
from tests.e2e import test_rest_support as support

simulator = support.simulator
start = support.start

# Keys that are absent unless set: never null in an answer.
ONLY_WHEN_SET = ("dataTimestamp", "sandbox", "mode")
ERROR_CODES = {
    400: {"INVALID_SYMBOL", "INVALID_INTERVAL", "INVALID_PARAMETER"},
    401: {"UNAUTHORIZED"},
    403: {"FORBIDDEN"},
    404: {"NOT_FOUND"},
    429: {"RATE_LIMITED"},
    503: {"PROVIDER_ERROR"},
    500: {"INTERNAL_ERROR"},
}
MODELS = {model.__name__: model for model in schemas.RESPONSE_MODELS}


def samples(document: dict[str, Any]) -> list[tuple[str, int, type[schemas.ApiModel], dict[str, Any]]]:
    """Every (where, status, model, sample) of the document's JSON responses; each has some."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                media = response.get("content", {}).get("application/json")  # none: the WebSocket's 101
                if media is None:
                    continue  # /metrics' text
                schema = media["schema"]
                refs = [schema["$ref"]] if "$ref" in schema else [one["$ref"] for one in schema["anyOf"]]
                models = [MODELS[ref.rsplit("/", 1)[-1]] for ref in refs]
                assert media.get("examples"), f"{method} {path} {status} has no sample"
                for name, example in media["examples"].items():
                    # One of several shapes (/api/ohlcv: a range page with start): the one it fits.
                    model = next(m for m in models if _fits(m, example["value"]))
                    found.append((f"{method} {path} {status} {name}", int(status), model, example["value"]))
    return found


def _fits(model: type[schemas.ApiModel], sample: dict[str, Any]) -> bool:
    try:
        model.model_validate(sample)
    except ValueError:
        return False
    return True


def check_consistent(where: str, status: int, model: type[schemas.ApiModel], sample: dict[str, Any]) -> None:
    # A valid body of the documented model, nothing undeclared, nothing it would drop.
    assert model.model_validate(sample).body().keys() >= sample.keys(), where
    for key in ONLY_WHEN_SET:
        assert sample.get(key, "absent") is not None, f"{where}: {key} is null"
    if "stale" in sample:
        if sample["stale"]:
            assert isinstance(sample["dataTimestamp"], int) and sample["dataTimestamp"] < sample["timestamp"], where
        else:
            assert "dataTimestamp" not in sample, where
    if "count" in sample:
        assert sample["count"] == len(sample["data"]), where
    if model is schemas.ErrorResponse:
        error = sample["error"]
        assert sample["success"] is False and error["code"] in ERROR_CODES[status], where
        assert (error["retryAfter"] is not None) is (status in (429, 503)), where
    elif model is schemas.HealthResponse:
        statuses = {p["status"] for p in sample["providers"]}
        assert (sample["status"] == "healthy") is (statuses <= {"online", "unknown", "disabled"}), where
        assert (sample["status"] == "unhealthy") is (status == 503), where
        for provider in sample["providers"]:
            never_called = provider["lastCheck"] is None
            assert never_called is (provider["status"] in ("unknown", "disabled")), where
            assert never_called is (provider["calls"] == 0), where
    elif "success" in sample:
        assert sample["success"] is True and status == 200, where


async def test_every_json_response_has_a_sample_that_is_consistent(start):
    service = await start()
    document = await (await service.get("/openapi.json")).json()
    found = samples(document)
    for where, status, model, sample in found:
        check_consistent(where, status, model, sample)
    data_routes = ("/api/ohlcv", "/api/indicators", "/api/prices", "/api/sentiment", "/api/market/overview")
    for path in data_routes:  # a fresh and a stale sample each
        stale = [s["stale"] for w, st, _, s in found if w in (f"get {path} 200 fresh", f"get {path} 200 stale")]
        assert stale == [False, True], path
    ranges = [(model, s) for w, st, model, s in found if w.startswith("get /api/ohlcv 200 range")]
    assert [model for model, _ in ranges] == [schemas.OhlcvRangeResponse] * 2
    first, last = (s for _, s in ranges)  # two pages of one range: the second starts at the first's next
    assert first["next"] == last["data"][0]["timestamp"] and last["next"] is None


async def test_the_fresh_ohlcv_sample_has_the_shape_of_a_served_answer(start):
    service = await start()
    document = await (await service.get("/openapi.json")).json()
    ok = document["paths"]["/api/ohlcv"]["get"]["responses"]["200"]["content"]["application/json"]
    sample = ok["examples"]["fresh"]["value"]
    served = await (await service.get("/api/ohlcv?symbol=BTC&interval=1h&limit=2")).json()
    assert list(sample) == list(served)  # same keys, same order
    assert [list(c) for c in sample["data"]] == [list(c) for c in served["data"]]
