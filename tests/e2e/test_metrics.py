"""GET /metrics: Prometheus counters that follow what the service really did."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from simulator import UpstreamSimulator
from tests.fakes import FakeClock

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(exposition: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


async def _scrape(service: Any) -> Samples:
    response = await service.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return _samples(await response.text())


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_requests_cache_and_upstream_calls_are_counted(service: Any, simulator: UpstreamSimulator) -> None:
    for _ in range(3):
        assert (await service.get("/api/ohlcv?symbol=BTC&interval=1h")).status == 200
    assert (await service.get("/api/ohlcv?symbol=NOPE")).status == 400
    assert (await service.get("/no/such/route")).status == 404

    samples = await _scrape(service)
    ok = {"route": "/api/ohlcv", "method": "GET", "status": "200"}
    assert _value(samples, "cde_http_requests_total", **ok) == 3
    assert _value(samples, "cde_http_requests_total", route="/api/ohlcv", method="GET", status="400") == 1
    assert _value(samples, "cde_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert _value(samples, "cde_http_request_duration_seconds_count", route="/api/ohlcv", method="GET") == 4
    assert _value(samples, "cde_cache_lookups_total", kind="ohlcv", result="miss") == 1
    assert _value(samples, "cde_cache_lookups_total", kind="ohlcv", result="hit") == 2
    made = simulator.calls("binance")
    assert made == 1
    assert _value(samples, "cde_upstream_calls_total", provider="binance", outcome="ok") == made
    assert _value(samples, "cde_upstream_call_duration_seconds_count", provider="binance") == made
    assert _value(samples, "cde_circuit_state", provider="binance", state="closed") == 1
    assert _value(samples, "cde_circuit_state", provider="binance", state="open") == 0


async def test_failures_open_the_circuit_and_refused_calls_are_told_apart(
    make_service: Any, simulator: UpstreamSimulator
) -> None:
    service = await make_service(ohlcv_providers=["binance"], circuit_breaker_threshold=2)
    simulator.set_fault("binance", "http_500")
    symbols = ["BTC", "ETH", "SOL"]
    for symbol in symbols:  # distinct keys: nothing is shared or cached
        assert (await service.get(f"/api/ohlcv?symbol={symbol}")).status == 503

    samples = await _scrape(service)
    assert _value(samples, "cde_upstream_calls_total", provider="binance", outcome="error") == 2
    assert _value(samples, "cde_upstream_calls_total", provider="binance", outcome="circuit_open") == 1
    assert simulator.calls("binance") == 2  # the refused one never reached it
    assert _value(samples, "cde_upstream_call_duration_seconds_count", provider="binance") == 2
    assert _value(samples, "cde_circuit_state", provider="binance", state="open") == 1
    assert _value(samples, "cde_circuit_state", provider="binance", state="closed") == 0


async def test_timeouts_and_rate_limits_from_upstream_have_their_own_outcomes(
    make_service: Any, simulator: UpstreamSimulator
) -> None:
    service = await make_service(request_timeout=0.3, ohlcv_providers=["binance"])
    simulator.set_fault("binance", "slow", delay=1.0)
    assert (await service.get("/api/ohlcv?symbol=BTC")).status == 503
    simulator.clear_faults()
    simulator.set_fault("binance", "rate_limit")
    assert (await service.get("/api/ohlcv?symbol=ETH")).status == 503
    assert (await service.get("/api/ohlcv?symbol=SOL")).status == 503  # cooling down: not asked

    samples = await _scrape(service)
    assert _value(samples, "cde_upstream_calls_total", provider="binance", outcome="timeout") == 1
    assert _value(samples, "cde_upstream_calls_total", provider="binance", outcome="rate_limited") == 1
    assert _value(samples, "cde_upstream_calls_total", provider="binance", outcome="cooldown") == 1


async def test_single_flight_joins_and_stale_serves(make_service: Any, simulator: UpstreamSimulator) -> None:
    clock = FakeClock()
    service = await make_service(clock=clock, cache_ttl_sentiment=0.2)
    simulator.set_fault("alternative_me", "slow", delay=0.3)
    answers = await asyncio.gather(*(service.get("/api/sentiment") for _ in range(10)))
    assert [a.status for a in answers] == [200] * 10
    assert simulator.calls("alternative_me") == 1

    clock.advance(0.3)  # past the TTL, within the stale TTL
    simulator.clear_faults()
    simulator.set_fault("alternative_me", "http_500")
    stale = await service.get("/api/sentiment")
    assert (await stale.json())["stale"] is True

    samples = await _scrape(service)
    assert _value(samples, "cde_single_flight_joins_total", kind="sentiment") == 9
    assert _value(samples, "cde_cache_lookups_total", kind="sentiment", result="miss") == 11
    assert _value(samples, "cde_cache_stale_served_total", kind="sentiment") == 1


async def test_requests_refused_by_the_client_limit_are_counted(make_service: Any) -> None:
    service = await make_service(rate_limit_prices=2)
    statuses = [(await service.get("/api/prices?symbols=BTC")).status for _ in range(4)]
    assert statuses == [200, 200, 429, 429]
    samples = await _scrape(service)
    assert _value(samples, "cde_rate_limited_requests_total", group="prices") == 2
    assert _value(samples, "cde_http_requests_total", route="/api/prices", method="GET", status="429") == 2


async def test_metrics_can_be_switched_off(make_service: Any) -> None:
    service = await make_service(metrics_enabled=False)
    response = await service.get("/metrics")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "NOT_FOUND"


async def test_grpc_calls_are_counted_by_method_and_code(make_grpc: Any) -> None:
    import grpc

    from protos.cryptodata.v1 import market_data_pb2 as pb

    service = await make_grpc()
    await service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="BTC", interval="1h", limit=5))
    try:
        await service.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="NOPE"))
    except grpc.aio.AioRpcError as error:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    else:
        raise AssertionError("an unknown symbol must fail")

    samples = _samples(service.use_cases.metrics.exposition().decode())
    method = "/cryptodata.v1.MarketData/GetOhlcv"
    assert _value(samples, "cde_grpc_requests_total", method=method, code="OK") == 1
    assert _value(samples, "cde_grpc_requests_total", method=method, code="INVALID_ARGUMENT") == 1
    assert _value(samples, "cde_grpc_request_duration_seconds_count", method=method) == 2
    assert _value(samples, "cde_cache_lookups_total", kind="ohlcv", result="miss") == 1


async def test_methods_clients_invent_share_one_label(service: Any) -> None:
    for method in ("PROPFIND", "MKCOL", "PURGE"):  # known to the HTTP parser, not to our labels
        assert (await service.request(method, "/api/health")).status == 405
    samples = await _scrape(service)
    methods = {dict(labels).get("method") for (name, labels) in samples if name == "cde_http_requests_total"}
    assert "other" in methods
    assert not methods & {"PROPFIND", "MKCOL", "PURGE"}
    assert _value(samples, "cde_http_requests_total", route="unmatched", method="other", status="405") == 3
