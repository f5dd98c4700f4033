"""AlternativeMeAdapter over real HTTP against the simulator: Fear & Greed readings."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from adapters.providers.alternative_me import AlternativeMeAdapter
from domain.errors import BadPayload, ProviderError, ProviderUnavailable, UpstreamRateLimited
from simulator import UpstreamSimulator
from tests.integration.conftest import ClientFactory
from tests.integration.support import DAY_MS, NOW, fetch_raw, requests_to

FNG = "/fng/"
TODAY_S = int(NOW) // (DAY_MS // 1000) * (DAY_MS // 1000)


@pytest.fixture
def fng(client_for: ClientFactory) -> AlternativeMeAdapter:
    return AlternativeMeAdapter(client_for("alternative_me"))


@pytest.mark.parametrize("days", [1, 7, 30])
async def test_readings_are_parsed_newest_first(
    sim: UpstreamSimulator, fng: AlternativeMeAdapter, days: int
) -> None:
    history = await fng.fetch_fear_greed(days)

    sent = requests_to(sim, "alternative_me", FNG)
    assert len(sent) == 1
    assert sent[0].query.get("limit") == str(days)
    assert "date_format" not in sent[0].query  # it would turn timestamps into date strings

    raw = await fetch_raw(sim.base_urls["alternative_me"] + FNG, limit=str(days))
    entries = raw.body["data"]
    assert len(history.readings) == len(entries) == days
    for reading, entry in zip(history.readings, entries, strict=True):
        assert isinstance(reading.value, int) and reading.value == int(entry["value"])
        assert reading.classification == entry["value_classification"]
        assert reading.timestamp == int(entry["timestamp"])  # epoch seconds
    stamps = [r.timestamp for r in history.readings]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == days
    assert stamps[0] == TODAY_S and all(s % 86_400 == 0 for s in stamps)
    assert all(0 <= r.value <= 100 for r in history.readings)
    assert history.source == "alternative_me"


async def test_a_reported_error_is_unavailable_not_a_neutral_value(
    sim: UpstreamSimulator, fng: AlternativeMeAdapter
) -> None:
    sim.set_fault("alternative_me", "metadata_error", message="Database unreachable")
    raw = await fetch_raw(sim.base_urls["alternative_me"] + FNG, limit="1")
    assert raw.status == 200 and raw.body["metadata"]["error"] == "Database unreachable"
    with pytest.raises(ProviderUnavailable) as caught:
        await fng.fetch_fear_greed(7)
    assert "Database unreachable" in caught.value.reason
    assert caught.value.provider == "alternative_me"


async def test_a_rate_limit_carries_retry_after(sim: UpstreamSimulator, fng: AlternativeMeAdapter) -> None:
    sim.set_fault("alternative_me", "rate_limit", retry_after=12)
    with pytest.raises(UpstreamRateLimited) as caught:
        await fng.fetch_fear_greed(1)
    assert caught.value.retry_after == 12


FAULTS: list[Any] = [
    pytest.param("empty", {}, BadPayload, id="empty"),
    pytest.param("wrong_shape", {}, BadPayload, id="wrong-shape"),
    pytest.param("malformed_json", {}, BadPayload, id="malformed-json"),
    pytest.param("html", {"status": 200}, BadPayload, id="html-200"),
    pytest.param("html", {"status": 502}, ProviderUnavailable, id="html-502"),
    pytest.param("http_500", {}, ProviderUnavailable, id="nginx-500"),
    pytest.param("http_503", {}, ProviderUnavailable, id="nginx-503"),
    pytest.param("connection_reset", {}, ProviderUnavailable, id="connection-reset"),
]


@pytest.mark.parametrize(("kind", "params", "expected"), FAULTS)
async def test_faults_become_domain_errors(
    sim: UpstreamSimulator,
    fng: AlternativeMeAdapter,
    kind: str,
    params: dict[str, Any],
    expected: type[ProviderError],
) -> None:
    sim.set_fault("alternative_me", kind, times=None if kind == "connection_reset" else 1, **params)
    with pytest.raises(expected) as caught:
        await fng.fetch_fear_greed(7)
    assert type(caught.value) is expected
    assert caught.value.provider == "alternative_me"


async def test_a_timeout_is_provider_unavailable(
    sim: UpstreamSimulator, client_for: ClientFactory, impatient_session: aiohttp.ClientSession
) -> None:
    adapter = AlternativeMeAdapter(client_for("alternative_me", http=impatient_session))
    sim.set_fault("alternative_me", "timeout")
    with pytest.raises(ProviderUnavailable):
        await adapter.fetch_fear_greed(1)
