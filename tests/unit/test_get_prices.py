"""GetPrices: quotes combined from every price provider that answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from application.get_prices import GetPrices
from domain.errors import AllProvidersFailed, InvalidSymbol, ProviderUnavailable, UpstreamRateLimited
from domain.quote import Quote
from domain.symbol import SymbolParser
from tests.fakes import FakePriceProvider
from tests.unit.world import SUPPORTED_SYMBOLS, T0, Infrastructure, infrastructure

TTL = 30.0


class ListingFakePriceProvider(FakePriceProvider):
    """A fake that lists only the bases it has a price for, as the real adapters do."""

    def lists(self, base: str) -> bool:
        return base in self.prices

    async def fetch_quotes(self, bases: Sequence[str]) -> dict[str, Quote]:
        assert all(base in self.prices for base in bases), f"asked for unlisted bases {bases}"
        return await super().fetch_quotes(bases)


@dataclass
class Setup:
    use_case: GetPrices
    coingecko: FakePriceProvider
    coincap: FakePriceProvider
    binance: FakePriceProvider
    infra: Infrastructure

    @property
    def providers(self) -> tuple[FakePriceProvider, ...]:
        return (self.coingecko, self.coincap, self.binance)


def setup(
    coingecko: dict[str, float] | None = None,
    coincap: dict[str, float] | None = None,
    binance: dict[str, float] | None = None,
    *,
    disabled: tuple[str, ...] = (),
    max_deviation: float = 0.02,
) -> Setup:
    fakes = (
        FakePriceProvider("coingecko", coingecko if coingecko is not None else {"BTC": 100.0, "ETH": 10.0}),
        FakePriceProvider("coincap", coincap if coincap is not None else {"BTC": 101.0, "ETH": 10.1}),
        FakePriceProvider("binance", binance if binance is not None else {"BTC": 102.0, "ETH": 10.05}),
    )
    infra = infrastructure([f.name for f in fakes], disabled)
    use_case = GetPrices(SymbolParser(SUPPORTED_SYMBOLS), fakes, infra.calls, infra.read_through, TTL, max_deviation)
    return Setup(use_case, *fakes, infra)


async def test_quotes_are_combined_across_providers() -> None:
    s = setup()
    served = await s.use_case.execute("BTC,ETH")
    board = served.value
    assert served.stale is False
    assert [q.symbol for q in board.quotes] == ["BTC", "ETH"]
    btc, eth = board.quotes
    assert btc.price_usd == 101.0  # median of 100, 101, 102
    assert eth.price_usd == pytest.approx(10.05)
    assert btc.sources == ("coingecko", "coincap", "binance")
    assert board.sources == ("coingecko", "coincap", "binance")
    assert board.missing == ()
    for fake in s.providers:  # one call each, for every supported base: the board is shared
        assert fake.calls == [SUPPORTED_SYMBOLS]


async def test_sources_follow_the_configured_order_and_name_only_contributors() -> None:
    s = setup(coincap={"ETH": 10.0})  # coincap does not list BTC
    board = (await s.use_case.execute("BTC")).value
    assert board.sources == ("coingecko", "binance")
    assert board.quotes[0].price_usd == 101.0  # median of 100 and 102


async def test_a_source_far_from_the_others_does_not_set_the_price() -> None:
    s = setup(binance={"BTC": 150.0})
    board = (await s.use_case.execute("BTC")).value
    assert board.quotes[0].price_usd == pytest.approx(100.5)
    assert board.quotes[0].dropped == ("binance",)
    assert board.sources == ("coingecko", "coincap")


async def test_the_configured_max_deviation_is_applied() -> None:
    s = setup(binance={"BTC": 150.0}, max_deviation=0.6)
    board = (await s.use_case.execute("BTC")).value
    assert board.quotes[0].price_usd == 101.0
    assert board.quotes[0].dropped == ()


async def test_a_disabled_provider_is_skipped_without_a_call() -> None:
    s = setup(disabled=("coincap",))
    board = (await s.use_case.execute("BTC")).value
    assert s.coincap.calls == []
    assert board.sources == ("coingecko", "binance")
    assert board.quotes[0].price_usd == 101.0  # median of 100 and 102


async def test_a_disabled_provider_is_named_in_the_failures() -> None:
    s = setup(disabled=("coincap",))
    s.coingecko.error = ProviderUnavailable("coingecko", "HTTP 503")
    s.binance.error = ProviderUnavailable("binance", "timeout")
    with pytest.raises(AllProvidersFailed) as caught:
        await s.use_case.execute("BTC")
    assert caught.value.failures["coingecko"] == "HTTP 503"
    assert caught.value.failures["binance"] == "timeout"
    assert "coincap" in caught.value.failures
    assert s.coincap.calls == []


async def test_symbols_no_provider_lists_are_reported_missing() -> None:
    s = setup()
    board = (await s.use_case.execute("SOL,BTC,XRP,ETH")).value
    assert [q.symbol for q in board.quotes] == ["BTC", "ETH"]
    assert board.missing == ("SOL", "XRP")


async def test_one_failing_provider_still_gives_an_answer() -> None:
    s = setup()
    s.coincap.error = ProviderUnavailable("coincap", "HTTP 502")
    board = (await s.use_case.execute("BTC")).value
    assert board.sources == ("coingecko", "binance")
    assert board.quotes[0].price_usd == 101.0


async def test_when_every_provider_fails_each_reason_is_listed() -> None:
    s = setup()
    s.coingecko.error = UpstreamRateLimited("coingecko", "HTTP 429", retry_after=60)
    s.coincap.error = ProviderUnavailable("coincap", "HTTP 502", retry_after=5)
    s.binance.error = ProviderUnavailable("binance", "timeout")
    with pytest.raises(AllProvidersFailed) as caught:
        await s.use_case.execute("BTC")
    assert caught.value.failures == {"coingecko": "HTTP 429", "coincap": "HTTP 502", "binance": "timeout"}
    # Binance named no time, coincap 5 s: ask again in 5 s (issue 13: this was None, the default 30).
    assert caught.value.retry_after == 5


async def test_retry_after_is_the_soonest_when_every_provider_named_one() -> None:
    s = setup()
    s.coingecko.error = UpstreamRateLimited("coingecko", "HTTP 429", retry_after=60)
    s.coincap.error = ProviderUnavailable("coincap", "HTTP 502", retry_after=5)
    s.binance.error = UpstreamRateLimited("binance", "HTTP 429", retry_after=20)
    with pytest.raises(AllProvidersFailed) as caught:
        await s.use_case.execute("BTC")
    assert caught.value.retry_after == 5


async def test_providers_that_quote_none_of_the_requested_symbols_give_no_board() -> None:
    s = setup(coingecko={"ETH": 1.0}, coincap={"ETH": 1.0}, binance={"ETH": 1.0})
    s.coincap.error = ProviderUnavailable("coincap", "HTTP 502")
    with pytest.raises(AllProvidersFailed) as caught:
        await s.use_case.execute("BTC")
    assert set(caught.value.failures) == {"coingecko", "coincap", "binance"}
    assert caught.value.failures["coincap"] == "HTTP 502"
    assert "BTC" in caught.value.failures["coingecko"] and "BTC" in caught.value.failures["binance"]
    # ETH is quoted on the same board, which serves a request for it without a new call
    assert [q.symbol for q in (await s.use_case.execute("ETH")).value.quotes] == ["ETH"]
    assert len(s.coingecko.calls) == 1


async def test_providers_that_quote_nothing_at_all_give_no_board() -> None:
    s = setup(coingecko={}, coincap={}, binance={})
    with pytest.raises(AllProvidersFailed) as caught:
        await s.use_case.execute("BTC")
    assert set(caught.value.failures) == {"coingecko", "coincap", "binance"}


@pytest.mark.parametrize("symbols", ["DOGE", "BTC,,ETH", "BTC,ETH/EUR", "B TC"])
async def test_invalid_symbols_are_refused_before_any_provider_call(symbols: str) -> None:
    s = setup()
    with pytest.raises(InvalidSymbol):
        await s.use_case.execute(symbols)
    assert all(fake.calls == [] for fake in s.providers)


async def test_without_symbols_every_supported_base_is_asked_for() -> None:
    s = setup()
    board = (await s.use_case.execute(None)).value
    assert s.coingecko.calls == [SUPPORTED_SYMBOLS]
    assert len(board.quotes) + len(board.missing) == len(SUPPORTED_SYMBOLS)


async def test_duplicate_spellings_ask_for_each_base_once() -> None:
    s = setup()
    board = (await s.use_case.execute("btc,BTCUSDT,eth-usd")).value
    assert [q.symbol for q in board.quotes] == ["BTC", "ETH"]
    assert board.missing == ()
    [asked] = s.coingecko.calls
    assert len(asked) == len(set(asked)) and {"BTC", "ETH"} <= set(asked)


async def test_requests_for_different_symbols_share_one_call_per_provider() -> None:
    s = setup()
    btc = (await s.use_case.execute("BTC")).value
    rest = (await s.use_case.execute("SOL,ETH")).value
    everything = (await s.use_case.execute(None)).value
    assert all(fake.calls == [SUPPORTED_SYMBOLS] for fake in s.providers)
    assert [q.symbol for q in btc.quotes] == ["BTC"] and btc.missing == ()
    assert [q.symbol for q in rest.quotes] == ["ETH"] and rest.missing == ("SOL",)
    assert [q.symbol for q in everything.quotes] == ["BTC", "ETH"]
    assert set(everything.missing) == set(SUPPORTED_SYMBOLS) - {"BTC", "ETH"}


async def test_each_selection_names_only_the_providers_behind_its_own_quotes() -> None:
    s = setup(coingecko={"BTC": 100.0}, coincap={"ETH": 10.0}, binance={"BTC": 100.5, "ETH": 10.02})
    assert (await s.use_case.execute("BTC")).value.sources == ("coingecko", "binance")
    assert (await s.use_case.execute("ETH")).value.sources == ("coincap", "binance")
    assert (await s.use_case.execute("ETH,BTC")).value.sources == ("coingecko", "coincap", "binance")
    assert all(len(fake.calls) == 1 for fake in s.providers)


async def test_the_board_records_the_providers_that_failed() -> None:
    s = setup()
    s.coincap.error = ProviderUnavailable("coincap", "HTTP 502")
    board = (await s.use_case.execute("BTC")).value
    assert board.failures == (("coincap", "HTTP 502"),)
    assert board.sources == ("coingecko", "binance")


async def test_each_provider_is_asked_only_for_the_bases_it_lists() -> None:
    fakes = (
        ListingFakePriceProvider("coingecko", {"BTC": 100.0, "ETH": 10.0}),
        ListingFakePriceProvider("coincap", {}),  # lists nothing we support
        ListingFakePriceProvider("binance", {"ETH": 10.01, "SOL": 150.0}),
    )
    infra = infrastructure([f.name for f in fakes])
    use_case = GetPrices(SymbolParser(SUPPORTED_SYMBOLS), fakes, infra.calls, infra.read_through, TTL, 0.02)
    board = (await use_case.execute("SOL,BTC")).value
    assert fakes[0].calls == [("BTC", "ETH")]
    assert fakes[1].calls == []  # skipped without a call
    assert fakes[2].calls == [("ETH", "SOL")]
    assert [q.symbol for q in board.quotes] == ["SOL", "BTC"]
    assert board.sources == ("coingecko", "binance")
    assert dict(board.failures).keys() == {"coincap"}


async def test_a_second_request_is_served_from_cache() -> None:
    s = setup()
    await s.use_case.execute("BTC,ETH")
    served = await s.use_case.execute("BTC,ETH")
    assert served.stale is False
    assert all(len(fake.calls) == 1 for fake in s.providers)


async def test_after_the_ttl_a_stale_board_is_served_when_every_provider_fails() -> None:
    s = setup()
    first = await s.use_case.execute("BTC")
    s.infra.clock.advance(TTL + 1)
    for fake in s.providers:
        fake.error = ProviderUnavailable(fake.name, "HTTP 503")
    served = await s.use_case.execute("BTC")
    assert served.stale is True
    assert served.value == first.value
    assert served.fetched_at == T0


async def test_a_cached_board_answers_in_each_requests_own_order_without_a_new_fetch() -> None:
    s = setup()
    await s.use_case.execute("ETH,BTC")
    served = await s.use_case.execute("BTC,ETH")
    assert [q.symbol for q in served.value.quotes] == ["BTC", "ETH"]
    assert all(len(p.calls) == 1 for p in s.providers)
