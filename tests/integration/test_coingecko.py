"""CoinGeckoAdapter over real HTTP against the simulator: one call for many ids, /global, keys."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.providers.coingecko import CoinGeckoAdapter, key_header
from adapters.providers.upstream import UpstreamClient, status_error
from domain.breaker_policy import counts_as_failure
from domain.errors import (
    BadPayload,
    ProviderError,
    ProviderUnavailable,
    UpstreamRateLimited,
    UpstreamRejected,
)
from domain.market import MarketOverview
from entrypoints.container import build_container, stop
from simulator import UpstreamSimulator
from simulator.coingecko import COINS_BY_ID
from tests.conftest import settings_for
from tests.integration.conftest import ClientFactory
from tests.integration.support import NOW, canned, fetch_raw, requests_to

SIMPLE_PRICE = "/simple/price"
GLOBAL = "/global"
#: Symbol -> CoinGecko id (PROVIDERS.md).
IDS = {
    "BTC": "bitcoin",
    "ETH": "ethereum",
    "SOL": "solana",
    "XRP": "ripple",
    "BNB": "binancecoin",
    "ADA": "cardano",
    "DOT": "polkadot",
    "LINK": "chainlink",
    "LTC": "litecoin",
    "BCH": "bitcoin-cash",
    "AVAX": "avalanche-2",
    "XLM": "stellar",
    "TRX": "tron",
    "MATIC": "matic-network",
}


@pytest.fixture
def coingecko(client_for: ClientFactory, sim: UpstreamSimulator) -> CoinGeckoAdapter:
    return CoinGeckoAdapter(client_for("coingecko", key_header(sim.base_urls["coingecko"], "")))


async def raw_prices(sim: UpstreamSimulator, ids: list[str]) -> dict[str, Any]:
    raw = await fetch_raw(
        sim.base_urls["coingecko"] + SIMPLE_PRICE,
        ids=",".join(ids),
        vs_currencies="usd",
        include_market_cap="true",
        include_24hr_vol="true",
        include_24hr_change="true",
        include_last_updated_at="true",
    )
    assert raw.status == 200
    body: dict[str, Any] = raw.body
    return body


# -- prices ----------------------------------------------------------------------------


async def test_every_supported_symbol_in_one_call(
    sim: UpstreamSimulator, coingecko: CoinGeckoAdapter
) -> None:
    quotes = await coingecko.fetch_quotes(list(IDS))

    sent = requests_to(sim, "coingecko")
    assert len(sent) == 1 and sent[0].path == SIMPLE_PRICE
    assert sorted(sent[0].query["ids"].split(",")) == sorted(IDS.values())
    assert sent[0].query["vs_currencies"] == "usd"
    # The parameters say 24hr, the answer's keys say 24h.
    assert sent[0].query["include_24hr_vol"] == sent[0].query["include_24hr_change"] == "true"
    assert set(quotes) == set(IDS)


@pytest.mark.parametrize(
    ("base", "coin_id"), [("BNB", "binancecoin"), ("AVAX", "avalanche-2"), ("MATIC", "matic-network")]
)
async def test_ids_are_mapped(
    sim: UpstreamSimulator, coingecko: CoinGeckoAdapter, base: str, coin_id: str
) -> None:
    quotes = await coingecko.fetch_quotes([base])
    assert [r.query["ids"] for r in requests_to(sim, "coingecko", SIMPLE_PRICE)] == [coin_id]
    assert quotes[base].price_usd == (await raw_prices(sim, [coin_id]))[coin_id]["usd"]


async def test_fields_are_mapped(sim: UpstreamSimulator, coingecko: CoinGeckoAdapter) -> None:
    bases = ["BTC", "ETH", "BNB", "AVAX", "MATIC", "XRP"]
    quotes = await coingecko.fetch_quotes(bases)
    raw = await raw_prices(sim, [IDS[b] for b in bases])

    for base in bases:
        quote, entry = quotes[base], raw[IDS[base]]
        assert quote.symbol == base and quote.source == "coingecko"
        assert quote.price_usd == entry["usd"]
        assert quote.market_cap == entry["usd_market_cap"]
        assert quote.volume_24h == entry["usd_24h_vol"]
        assert quote.change_24h == entry["usd_24h_change"]
        assert quote.last_update == entry["last_updated_at"] == int(NOW)  # seconds, as sent


@pytest.mark.parametrize("base", ["BNB", "AVAX", "MATIC", "TRX", "XRP", "BCH"])
async def test_names_come_from_the_known_table_not_the_id(coingecko: CoinGeckoAdapter, base: str) -> None:
    quote = (await coingecko.fetch_quotes([base]))[base]
    assert quote.name == COINS_BY_ID[IDS[base]].name  # "BNB", "Avalanche", "Polygon", "TRON"...
    assert quote.name != IDS[base].title()


async def test_unknown_symbols_are_simply_missing(
    sim: UpstreamSimulator, coingecko: CoinGeckoAdapter
) -> None:
    quotes = await coingecko.fetch_quotes(["BTC", "XMR", "ETH"])
    assert set(quotes) == {"BTC", "ETH"}
    assert sim.calls("coingecko") == 1


async def test_an_empty_object_is_a_bad_payload(sim: UpstreamSimulator, coingecko: CoinGeckoAdapter) -> None:
    # {} with 200 is what CoinGecko answers when it knows none of the ids: no data, a failure.
    sim.set_fault("coingecko", "empty", path=SIMPLE_PRICE)
    with pytest.raises(BadPayload):
        await coingecko.fetch_quotes(["BTC", "ETH"])


# -- keys ------------------------------------------------------------------------------


def test_a_demo_key_goes_in_the_demo_header_on_the_public_host() -> None:
    assert key_header("https://api.coingecko.com/api/v3", "CG-demo") == {"x-cg-demo-api-key": "CG-demo"}


def test_a_pro_key_goes_in_the_pro_header_on_the_pro_host() -> None:
    assert key_header("https://pro-api.coingecko.com/api/v3", "CG-pro") == {"x-cg-pro-api-key": "CG-pro"}


def test_no_key_no_header() -> None:
    assert key_header("https://api.coingecko.com/api/v3", "") == {}
    assert key_header("https://pro-api.coingecko.com/api/v3", "") == {}


async def test_the_demo_key_header_reaches_the_upstream(
    sim: UpstreamSimulator, client_for: ClientFactory
) -> None:
    adapter = CoinGeckoAdapter(client_for("coingecko", key_header(sim.base_urls["coingecko"], "CG-demo-123")))
    await adapter.fetch_quotes(["BTC"])
    await adapter.fetch_overview()
    for request in requests_to(sim, "coingecko"):
        assert request.headers.get("x-cg-demo-api-key") == "CG-demo-123"
        assert "x-cg-pro-api-key" not in request.headers


async def test_the_service_wiring_sends_the_key() -> None:
    async with UpstreamSimulator(now=lambda: NOW) as sim:
        container = build_container(settings_for(sim, coingecko_api_key="CG-wired"))
        try:
            resolved = container.upstreams.adapters()
            adapter = (await resolved if inspect.isawaitable(resolved) else resolved)["coingecko"]
            await adapter.fetch_quotes(["BTC"])
        finally:
            await stop(container)
        assert [r.headers.get("x-cg-demo-api-key") for r in requests_to(sim, "coingecko")] == ["CG-wired"]


# -- errors ----------------------------------------------------------------------------


async def test_a_429_carries_retry_after(sim: UpstreamSimulator, coingecko: CoinGeckoAdapter) -> None:
    sim.set_fault("coingecko", "rate_limit", retry_after=42)
    with pytest.raises(UpstreamRateLimited) as caught:
        await coingecko.fetch_quotes(["BTC"])
    assert caught.value.retry_after == 42
    with pytest.raises(UpstreamRateLimited) as caught:
        await coingecko.fetch_overview()
    assert caught.value.retry_after == 42


async def test_a_cloudflare_429_page_is_still_a_rate_limit(
    sim: UpstreamSimulator, coingecko: CoinGeckoAdapter
) -> None:
    # The status decides (upstream.status_error runs before any body is read); without a
    # Retry-After the provider still must not be called again at once.
    sim.set_fault("coingecko", "html", status=429)
    raw = await fetch_raw(sim.base_urls["coingecko"] + "/ping")
    assert raw.status == 429 and raw.body.lstrip().startswith("<")
    with pytest.raises(UpstreamRateLimited) as caught:
        await coingecko.fetch_quotes(["BTC"])
    # CoinGecko's public limit is per minute: without a Retry-After, a minute's pause.
    assert caught.value.retry_after == 60.0


FAULTS: list[Any] = [
    pytest.param("http_500", {}, ProviderUnavailable, id="cloudflare-500"),
    pytest.param("http_503", {}, ProviderUnavailable, id="cloudflare-503"),
    pytest.param("html", {"status": 502}, ProviderUnavailable, id="html-502"),
    pytest.param("html", {"status": 200}, BadPayload, id="html-200"),
    pytest.param("malformed_json", {}, BadPayload, id="malformed-json"),
    pytest.param("wrong_shape", {}, BadPayload, id="wrong-shape"),
    pytest.param("empty", {}, BadPayload, id="empty"),
    pytest.param("connection_reset", {}, ProviderUnavailable, id="connection-reset"),
]


@pytest.mark.parametrize("operation", ["prices", "global"])
@pytest.mark.parametrize(("kind", "params", "expected"), FAULTS)
async def test_faults_become_domain_errors(
    sim: UpstreamSimulator,
    coingecko: CoinGeckoAdapter,
    operation: str,
    kind: str,
    params: dict[str, Any],
    expected: type[ProviderError],
) -> None:
    sim.set_fault("coingecko", kind, times=None if kind == "connection_reset" else 1, **params)
    with pytest.raises(expected) as caught:
        if operation == "prices":
            await coingecko.fetch_quotes(["BTC", "ETH"])
        else:
            await coingecko.fetch_overview()
    assert type(caught.value) is expected
    assert caught.value.provider == "coingecko"


async def test_a_timeout_is_provider_unavailable(
    sim: UpstreamSimulator, client_for: ClientFactory, impatient_session: aiohttp.ClientSession
) -> None:
    adapter = CoinGeckoAdapter(client_for("coingecko", http=impatient_session))
    sim.set_fault("coingecko", "timeout")
    with pytest.raises(ProviderUnavailable):
        await adapter.fetch_quotes(["BTC"])


# -- /global ---------------------------------------------------------------------------


async def test_global_is_read_inside_its_data_wrapper(
    sim: UpstreamSimulator, coingecko: CoinGeckoAdapter
) -> None:
    overview = await coingecko.fetch_overview()
    raw = await fetch_raw(sim.base_urls["coingecko"] + GLOBAL)
    data = raw.body["data"]

    assert isinstance(overview, MarketOverview)
    assert overview.total_market_cap == data["total_market_cap"]["usd"]
    assert overview.total_volume_24h == data["total_volume"]["usd"]
    assert overview.btc_dominance == data["market_cap_percentage"]["btc"]
    assert overview.eth_dominance == data["market_cap_percentage"]["eth"]
    assert overview.active_coins == data["active_cryptocurrencies"]
    assert overview.markets == data["markets"]
    assert overview.market_cap_change_24h == data["market_cap_change_percentage_24h_usd"]
    assert overview.updated_at == data["updated_at"] == int(NOW)  # seconds
    assert overview.source == "coingecko"


@pytest.fixture
async def odd_global() -> AsyncIterator[str]:
    """A loopback CoinGecko whose /global lacks ETH's market-cap share (payload drift)."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "data": {
                    "active_cryptocurrencies": 15000,
                    "markets": 1100,
                    "total_market_cap": {"usd": 2.5e12},
                    "total_volume": {"usd": 9.0e10},
                    "market_cap_percentage": {"btc": 52.0},
                    "market_cap_change_percentage_24h_usd": 1.0,
                    "updated_at": int(NOW),
                }
            }
        )

    app = web.Application()
    app.router.add_get("/api/v3/global", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/api/v3"
    finally:
        await runner.cleanup()


async def test_a_missing_dominance_is_not_made_up(odd_global: str, session: aiohttp.ClientSession) -> None:
    # Trap 9: no 0% share for a figure the provider did not send. Absent (None) or a
    # BadPayload are both honest.
    adapter = CoinGeckoAdapter(UpstreamClient(session, "coingecko", odd_global))
    try:
        overview = await adapter.fetch_overview()
    except BadPayload:
        return
    assert overview.eth_dominance is None
    assert overview.btc_dominance == 52.0


async def test_a_bad_vs_currency_style_400_is_a_provider_fault(
    sim: UpstreamSimulator, client_for: ClientFactory
) -> None:
    # CoinGecko's own 400 ({"error": ...}) means we call it wrongly (the adapter always asks
    # for usd): a fault of ours or of the configuration that counts for the circuit, not a
    # market CoinGecko does not list.
    client = client_for("coingecko")
    response = await client.get(SIMPLE_PRICE, {"ids": "bitcoin", "vs_currencies": "usdt"})
    assert response.status == 400
    error = status_error("coingecko", response)
    assert isinstance(error, BadPayload) and not isinstance(error, UpstreamRejected)
    assert counts_as_failure(error)


# -- zeros -----------------------------------------------------------------------------


def simple_price(usd: float, cap: float = 1.2e12, volume: float = 3.4e10) -> dict[str, Any]:
    return {"usd": usd, "usd_market_cap": cap, "usd_24h_vol": volume, "usd_24h_change": -0.5,
            "last_updated_at": int(NOW)}  # fmt: skip


async def test_a_zero_price_is_no_quote_but_zero_volume_and_cap_are_figures() -> None:
    body = {"bitcoin": simple_price(0), "ethereum": simple_price(3500.5, cap=0, volume=0)}
    adapter = CoinGeckoAdapter(canned("coingecko", body))
    quotes = await adapter.fetch_quotes(["BTC", "ETH"])
    assert set(quotes) == {"ETH"}
    assert (quotes["ETH"].price_usd, quotes["ETH"].market_cap, quotes["ETH"].volume_24h) == (3500.5, 0.0, 0.0)


async def test_only_zero_prices_is_a_bad_payload() -> None:
    adapter = CoinGeckoAdapter(canned("coingecko", {"bitcoin": simple_price(0)}))
    with pytest.raises(BadPayload):
        await adapter.fetch_quotes(["BTC"])


def test_it_lists_exactly_the_bases_it_has_an_id_for() -> None:
    adapter = CoinGeckoAdapter(canned("coingecko", {}))
    assert all(adapter.lists(base) for base in IDS)
    assert adapter.lists("XMR") is False
