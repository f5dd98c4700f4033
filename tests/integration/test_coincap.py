"""CoinCapAdapter over real HTTP against the simulator: v3 with a key, disabled without one."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.providers.coincap import CoinCapAdapter
from adapters.providers.upstream import BLOCKED_PAUSE, UpstreamClient
from adapters.resilience.memory_cooldowns import MemoryCooldowns
from application.provider_calls import ProviderCalls
from domain.errors import (
    BadPayload,
    CircuitOpen,
    ProviderDisabled,
    ProviderError,
    ProviderUnavailable,
    UpstreamBlocked,
    UpstreamRateLimited,
)
from entrypoints.container import build_container, stop
from simulator import UpstreamSimulator
from tests.conftest import settings_for
from tests.fakes import FakeClock
from tests.integration.support import NOW, canned, exact, fetch_raw, requests_to

KEY = "cc-test-key"
ASSETS = "/assets"
#: Symbol -> CoinCap id, as CoinCap names its assets.
IDS = {
    "BTC": "bitcoin",
    "ETH": "ethereum",
    "XRP": "xrp",
    "BNB": "binance-coin",
    "MATIC": "polygon",
    "AVAX": "avalanche",
}


@pytest.fixture
async def keyed_sim() -> AsyncIterator[UpstreamSimulator]:
    """A simulator whose CoinCap accepts only ``KEY``."""
    async with UpstreamSimulator(now=lambda: NOW, coincap_api_key=KEY) as simulator:
        yield simulator


def coincap_on(
    sim: UpstreamSimulator, session: aiohttp.ClientSession, key: str, *, send: str | None = None
) -> CoinCapAdapter:
    """The adapter configured with ``key``; the client sends ``send`` (default: ``key``) as Bearer."""
    token = key if send is None else send
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return CoinCapAdapter(UpstreamClient(session, "coincap", sim.base_urls["coincap"], headers), key)


@pytest.fixture
def coincap(keyed_sim: UpstreamSimulator, session: aiohttp.ClientSession) -> CoinCapAdapter:
    return coincap_on(keyed_sim, session, KEY)


async def test_quotes_with_a_key(keyed_sim: UpstreamSimulator, coincap: CoinCapAdapter) -> None:
    assert coincap.enabled is True
    quotes = await coincap.fetch_quotes(list(IDS))

    sent = requests_to(keyed_sim, "coincap")
    assert len(sent) == 1 and sent[0].path == ASSETS
    assert sent[0].headers.get("Authorization") == f"Bearer {KEY}"
    assert sorted(sent[0].query["ids"].split(",")) == sorted(IDS.values())

    raw = await fetch_raw(
        keyed_sim.base_urls["coincap"] + ASSETS,
        headers={"Authorization": f"Bearer {KEY}"},
        ids=",".join(IDS.values()),
    )
    rows = {row["id"]: row for row in raw.body["data"]}
    assert set(quotes) == set(IDS)
    for base, coin_id in IDS.items():
        quote, row = quotes[base], rows[coin_id]
        assert isinstance(row["priceUsd"], str)  # every CoinCap number is a decimal string
        assert quote.price_usd == exact(row["priceUsd"])
        assert quote.market_cap == exact(row["marketCapUsd"])
        assert quote.volume_24h == exact(row["volumeUsd24Hr"])
        assert quote.change_24h == exact(row["changePercent24Hr"])
        assert quote.name == row["name"]  # names from the payload
        assert quote.last_update == raw.body["timestamp"] / 1000  # ms on the wire, seconds here
        assert (quote.symbol, quote.source) == (base, "coincap")


async def test_unknown_symbols_are_simply_missing(coincap: CoinCapAdapter) -> None:
    assert set(await coincap.fetch_quotes(["BTC", "XMR"])) == {"BTC"}


async def test_without_a_key_it_is_disabled_and_never_calls(
    keyed_sim: UpstreamSimulator, session: aiohttp.ClientSession
) -> None:
    adapter = coincap_on(keyed_sim, session, "")
    assert adapter.enabled is False
    with pytest.raises(ProviderDisabled) as caught:
        await adapter.fetch_quotes(["BTC", "ETH"])
    assert caught.value.provider == "coincap"
    assert keyed_sim.calls("coincap") == 0


@pytest.mark.parametrize("sent", ["wrong-key", ""], ids=["wrong-key", "no-header"])
async def test_a_401_is_blocked(
    keyed_sim: UpstreamSimulator, session: aiohttp.ClientSession, sent: str
) -> None:
    adapter = coincap_on(keyed_sim, session, KEY, send=sent)
    with pytest.raises(UpstreamBlocked) as caught:
        await adapter.fetch_quotes(["BTC"])
    assert caught.value.provider == "coincap"
    assert keyed_sim.calls("coincap") == 1


async def test_a_refused_key_holds_coincap_off_for_an_hour(
    keyed_sim: UpstreamSimulator, session: aiohttp.ClientSession
) -> None:
    # A wrong key does not fix itself: no call for BLOCKED_PAUSE, then one to see.
    adapter = coincap_on(keyed_sim, session, KEY, send="wrong-key")
    clock = FakeClock(1_800_000_000.0)
    calls = ProviderCalls(clock, 5.0, cooldowns=MemoryCooldowns())
    with pytest.raises(UpstreamBlocked) as caught:
        await calls.run("coincap", lambda: adapter.fetch_quotes(["BTC"]))
    assert caught.value.retry_after == BLOCKED_PAUSE == 3600.0

    clock.advance(BLOCKED_PAUSE - 1)
    with pytest.raises(CircuitOpen):
        await calls.run("coincap", lambda: adapter.fetch_quotes(["BTC"]))
    assert keyed_sim.calls("coincap") == 1

    clock.advance(1)
    with pytest.raises(UpstreamBlocked):
        await calls.run("coincap", lambda: adapter.fetch_quotes(["BTC"]))
    assert keyed_sim.calls("coincap") == 2


async def test_the_service_wiring_sends_the_bearer_key(keyed_sim: UpstreamSimulator) -> None:
    container = build_container(settings_for(keyed_sim, coincap_api_key=KEY))
    try:
        resolved = container.upstreams.adapters()
        adapter = (await resolved if inspect.isawaitable(resolved) else resolved)["coincap"]
        await adapter.fetch_quotes(["BTC"])
    finally:
        await stop(container)
    assert [r.headers.get("Authorization") for r in requests_to(keyed_sim, "coincap")] == [f"Bearer {KEY}"]


async def test_the_v2_shutdown_notice_is_not_data(
    keyed_sim: UpstreamSimulator, coincap: CoinCapAdapter
) -> None:
    keyed_sim.set_fault("coincap", "deprecated_v2")
    raw = await fetch_raw(keyed_sim.base_urls["coincap"] + ASSETS, headers={"Authorization": f"Bearer {KEY}"})
    assert raw.status == 429 and "message" in raw.body["data"]  # a 429 dressed as data
    with pytest.raises(BadPayload) as caught:
        await coincap.fetch_quotes(["BTC"])
    assert caught.value.provider == "coincap"


async def test_a_rate_limit_carries_retry_after(
    keyed_sim: UpstreamSimulator, coincap: CoinCapAdapter
) -> None:
    keyed_sim.set_fault("coincap", "rate_limit", retry_after=25)
    with pytest.raises(UpstreamRateLimited) as caught:
        await coincap.fetch_quotes(["BTC"])
    assert caught.value.retry_after == 25


FAULTS: list[Any] = [
    pytest.param("http_500", {}, ProviderUnavailable, id="500-text"),
    pytest.param("http_503", {}, ProviderUnavailable, id="503-text"),
    pytest.param("html", {"status": 502}, ProviderUnavailable, id="html-502"),
    pytest.param("html", {"status": 200}, BadPayload, id="html-200"),
    pytest.param("malformed_json", {}, BadPayload, id="malformed-json"),
    pytest.param("wrong_shape", {}, BadPayload, id="wrong-shape"),
    pytest.param("empty", {}, BadPayload, id="empty"),
    pytest.param("connection_reset", {}, ProviderUnavailable, id="connection-reset"),
]


@pytest.mark.parametrize(("kind", "params", "expected"), FAULTS)
async def test_faults_become_domain_errors(
    keyed_sim: UpstreamSimulator,
    coincap: CoinCapAdapter,
    kind: str,
    params: dict[str, Any],
    expected: type[ProviderError],
) -> None:
    keyed_sim.set_fault("coincap", kind, times=None if kind == "connection_reset" else 1, **params)
    with pytest.raises(expected) as caught:
        await coincap.fetch_quotes(["BTC", "ETH"])
    assert type(caught.value) is expected
    assert caught.value.provider == "coincap"


async def test_a_timeout_is_provider_unavailable(
    keyed_sim: UpstreamSimulator, impatient_session: aiohttp.ClientSession
) -> None:
    adapter = coincap_on(keyed_sim, impatient_session, KEY)
    keyed_sim.set_fault("coincap", "timeout")
    with pytest.raises(ProviderUnavailable):
        await adapter.fetch_quotes(["BTC"])


# -- zeros -----------------------------------------------------------------------------


def asset(coin_id: str, price: str, cap: str = "1.2e12", volume: str = "3.4e10") -> dict[str, Any]:
    return {"id": coin_id, "name": coin_id.title(), "priceUsd": price, "marketCapUsd": cap,
            "volumeUsd24Hr": volume, "changePercent24Hr": "-0.5"}  # fmt: skip


async def test_a_zero_price_is_no_quote_but_zero_volume_and_cap_are_figures() -> None:
    body = {"data": [asset("bitcoin", "0"), asset("ethereum", "3500.5", cap="0", volume="0.0")],
            "timestamp": int(NOW * 1000)}  # fmt: skip
    adapter = CoinCapAdapter(canned("coincap", body), KEY)
    quotes = await adapter.fetch_quotes(["BTC", "ETH"])
    assert set(quotes) == {"ETH"}
    assert (quotes["ETH"].price_usd, quotes["ETH"].market_cap, quotes["ETH"].volume_24h) == (3500.5, 0.0, 0.0)


async def test_only_zero_prices_is_a_bad_payload() -> None:
    body = {"data": [asset("bitcoin", "0")], "timestamp": int(NOW * 1000)}
    adapter = CoinCapAdapter(canned("coincap", body), KEY)
    with pytest.raises(BadPayload):
        await adapter.fetch_quotes(["BTC"])
