"""GetPrices: quotes combined from every price provider that answers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from application.get_prices import GetPrices
from domain.errors import AllProvidersFailed, InvalidSymbol, ProviderUnavailable, UpstreamRateLimited
from domain.symbol import SymbolParser
from tests.fakes import FakePriceProvider
from tests.unit.world import SUPPORTED_SYMBOLS, T0, Infrastructure, infrastructure

TTL = 30.0


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
    for fake in s.providers:
        assert fake.calls == [("BTC", "ETH")]


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
    assert caught.value.retry_after == 5


async def test_providers_that_answer_but_list_none_of_the_symbols_give_no_board() -> None:
    s = setup(coingecko={"ETH": 1.0}, coincap={}, binance={"ETH": 1.0})
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
    await s.use_case.execute("btc,BTCUSDT,eth-usd")
    assert s.coingecko.calls == [("BTC", "ETH")]


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
