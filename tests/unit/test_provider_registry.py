"""The provider registry: each entry's settings, adapter, capabilities and simulator agree."""

from __future__ import annotations

import aiohttp
import pytest
from pydantic import SecretStr

from adapters.resilience.upstream_budget import MovingWindowBudgets
from domain.ports import MarketOverviewProvider, MarketStream, OhlcvProvider, PriceProvider, SentimentProvider
from entrypoints.registry.entry import AdapterParts, Capability, ProviderEntry, StreamParts
from entrypoints.registry.lineup import Lineup
from entrypoints.registry.providers import PROVIDERS, capable
from entrypoints.settings import Settings
from tests.fakes import FakeClock
from simulator import UpstreamSimulator

PORTS = {
    Capability.OHLCV: OhlcvProvider,
    Capability.PRICES: PriceProvider,
    Capability.SENTIMENT: SentimentProvider,
    Capability.OVERVIEW: MarketOverviewProvider,
}
STREAMING = [entry for entry in PROVIDERS if entry.stream is not None]
ENTRIES = pytest.mark.parametrize("entry", PROVIDERS, ids=[entry.id for entry in PROVIDERS])


def test_provider_ids_are_unique() -> None:
    ids = [entry.id for entry in PROVIDERS]
    assert len(ids) == len(set(ids))


@ENTRIES
def test_each_entry_declares_its_settings_with_their_defaults(entry: ProviderEntry) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert getattr(settings, entry.base_url_setting) == entry.base_url
    assert getattr(settings, entry.budget_setting) == entry.budget
    if entry.api_key_setting is not None:
        assert getattr(settings, entry.api_key_setting) == SecretStr("")


def test_settings_name_no_provider_the_registry_lacks() -> None:
    declared = {entry.base_url_setting for entry in PROVIDERS} | {entry.budget_setting for entry in PROVIDERS}
    declared |= {entry.api_key_setting for entry in PROVIDERS if entry.api_key_setting}
    declared |= {entry.ws_url_setting for entry in PROVIDERS if entry.ws_url_setting}
    per_provider = {name for name in Settings.model_fields if name.endswith(("_base_url", "_api_key", "_ws_url"))}
    per_provider |= {name for name in Settings.model_fields if name.startswith("upstream_budget_")}
    assert per_provider == declared


def test_the_provider_lists_accept_exactly_the_capable_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OHLCV_PROVIDERS", ",".join(reversed(capable(Capability.OHLCV))))
    monkeypatch.setenv("PRICE_PROVIDERS", ",".join(capable(Capability.PRICES)))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.ohlcv_providers == list(reversed(capable(Capability.OHLCV)))
    assert set(settings.price_providers) == set(capable(Capability.PRICES))


async def test_every_entry_has_its_simulator_counterpart() -> None:
    assert {entry.simulator for entry in PROVIDERS} == set(UpstreamSimulator().providers)


@ENTRIES
async def test_each_adapter_is_named_after_its_entry_and_implements_what_it_serves(entry: ProviderEntry) -> None:
    async with aiohttp.ClientSession() as session:
        clock = FakeClock()
        parts = AdapterParts(entry.id, session, entry.base_url, "key", MovingWindowBudgets({}, clock), clock)
        adapter = entry.build(parts)
        stream = entry.stream(StreamParts(entry.id, session, "wss://example.invalid", clock)) if entry.stream else None
    assert adapter.name == entry.id
    assert adapter.enabled is True
    for capability in entry.serves:
        if capability is Capability.STREAMS:
            assert isinstance(stream, MarketStream) and stream.name == entry.id and stream.enabled
        else:
            assert isinstance(adapter, PORTS[capability])


def test_the_lineup_follows_the_configured_order() -> None:
    adapters = {entry.id: f"adapter of {entry.id}" for entry in PROVIDERS}
    ohlcv = list(reversed(capable(Capability.OHLCV)))
    lineup = Lineup(adapters, ohlcv_providers=ohlcv, price_providers=["binance"], enable_sentiment=True)  # type: ignore[arg-type]
    assert lineup.chain(Capability.OHLCV) == [adapters[name] for name in ohlcv]
    assert lineup.chain(Capability.PRICES) == [adapters["binance"]]
    assert lineup.chain(Capability.OVERVIEW) == [adapters[name] for name in capable(Capability.OVERVIEW)]
    assert lineup.every == [adapters[entry.id] for entry in PROVIDERS]
    assert lineup.capabilities["ohlcv"] == ohlcv
    assert lineup.capabilities["sentiment"] == list(capable(Capability.SENTIMENT))


def test_a_capability_switched_off_is_not_one_health_counts() -> None:
    adapters = {entry.id: entry.id for entry in PROVIDERS}
    lineup = Lineup(adapters, ohlcv_providers=["kraken"], price_providers=["coingecko"], enable_sentiment=False)  # type: ignore[arg-type]
    assert "sentiment" not in lineup.capabilities
    assert lineup.chain(Capability.SENTIMENT) == list(capable(Capability.SENTIMENT))  # the use case refuses


def test_binance_and_kraken_stream_with_the_documented_websocket_urls() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert capable(Capability.STREAMS) == ("binance", "kraken")
    assert settings.stream_providers == ["binance", "kraken"]
    assert (settings.binance_ws_url, settings.kraken_ws_url) == ("wss://data-stream.binance.vision", "wss://ws.kraken.com/v2")
    assert [entry.ws_url_setting for entry in STREAMING] == ["binance_ws_url", "kraken_ws_url"]


def test_stream_providers_are_checked_against_the_entries_that_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAM_PROVIDERS", " Kraken , binance")
    monkeypatch.setenv("KRAKEN_WS_URL", "ws://127.0.0.1:9100/kraken/v2/")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.stream_providers == ["kraken", "binance"]
    assert settings.kraken_ws_url == "ws://127.0.0.1:9100/kraken/v2"
    for bad in ("binance,coingecko", "kraken,kraken", ""):
        monkeypatch.setenv("STREAM_PROVIDERS", bad)
        with pytest.raises(ValueError, match="STREAM_PROVIDERS"):
            Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("STREAM_PROVIDERS", "binance")
    monkeypatch.setenv("BINANCE_WS_URL", "https://stream.binance.com:9443")
    with pytest.raises(ValueError, match="BINANCE_WS_URL must be a ws"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_a_streaming_entry_needs_its_factory_and_url() -> None:
    with pytest.raises(ValueError, match="streams need"):
        ProviderEntry("x", (Capability.STREAMS,), "https://x", "1/second", lambda parts: None, "x")  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError, match="streams need"):
        ProviderEntry("x", (Capability.OHLCV,), "https://x", "1/second", lambda parts: None, "x", ws_url="wss://x")  # type: ignore[arg-type,return-value]


def test_the_lineup_orders_the_streams_and_keeps_them_out_of_health_capabilities() -> None:
    adapters = {entry.id: f"adapter of {entry.id}" for entry in PROVIDERS}
    streams = {entry.id: f"stream of {entry.id}" for entry in STREAMING}
    lineup = Lineup(
        adapters,  # type: ignore[arg-type]
        ohlcv_providers=["binance"],
        price_providers=["binance"],
        enable_sentiment=True,
        streams=streams,  # type: ignore[arg-type]
        stream_providers=["kraken", "binance"],
    )
    assert lineup.streams == ["stream of kraken", "stream of binance"]
    assert lineup.chain(Capability.STREAMS) == lineup.streams
    assert "streams" not in lineup.capabilities
