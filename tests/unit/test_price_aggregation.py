"""combine_quotes: the price served for one asset from several providers' quotes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.price_aggregation import combine_quotes
from domain.quote import Quote

PROPERTY = settings(database=None, deadline=None)
T0 = 1_700_000_000.0


def quote(
    source: str,
    price: float,
    *,
    name: str = "Bitcoin",
    change: float | None = None,
    volume: float | None = None,
    cap: float | None = None,
    updated: float = T0,
    base: str = "BTC",
) -> Quote:
    return Quote(base, name, price, change, volume, cap, updated, source)


def test_a_single_quote_is_served_as_is() -> None:
    combined = combine_quotes("BTC", [quote("coingecko", 64000.5)])
    assert combined.symbol == "BTC"
    assert combined.price_usd == 64000.5
    assert combined.sources == ("coingecko",)
    assert combined.dropped == ()


def test_price_is_the_median_of_three_agreeing_sources() -> None:
    combined = combine_quotes("BTC", [quote("a", 100.0), quote("b", 101.5), quote("c", 101.0)])
    assert combined.price_usd == 101.0
    assert combined.sources == ("a", "b", "c")
    assert combined.dropped == ()


def test_median_of_an_even_number_of_sources_is_the_mean_of_the_middle_two() -> None:
    combined = combine_quotes("BTC", [quote("a", 100.0), quote("b", 101.0), quote("c", 101.5), quote("d", 102.0)])
    assert combined.price_usd == pytest.approx(101.25)


def test_with_three_sources_one_deviating_more_than_2_percent_is_dropped() -> None:
    combined = combine_quotes("BTC", [quote("a", 100.0), quote("b", 100.5), quote("c", 110.0)])
    assert combined.dropped == ("c",)
    assert combined.sources == ("a", "b")
    assert combined.price_usd == pytest.approx(100.25)  # median of the two kept


def test_a_deviation_of_exactly_2_percent_is_kept() -> None:
    combined = combine_quotes("BTC", [quote("a", 100.0), quote("b", 100.0), quote("c", 102.0)])
    assert combined.dropped == ()
    assert combined.sources == ("a", "b", "c")


def test_a_deviation_just_over_2_percent_is_dropped() -> None:
    combined = combine_quotes("BTC", [quote("a", 100.0), quote("b", 100.0), quote("c", 102.5)])
    assert combined.dropped == ("c",)
    assert combined.price_usd == 100.0


def test_a_low_outlier_is_dropped_too() -> None:
    combined = combine_quotes("BTC", [quote("a", 10.0), quote("b", 100.0), quote("c", 100.4)])
    assert combined.dropped == ("a",)
    assert combined.price_usd == pytest.approx(100.2)


def test_with_two_sources_far_apart_the_preferred_one_is_served_and_the_other_dropped() -> None:
    # No majority to judge by, and their average (125) would be a price that exists nowhere.
    combined = combine_quotes("BTC", [quote("a", 100.0, volume=5.0), quote("b", 150.0, change=3.0)])
    assert combined.price_usd == 100.0
    assert combined.sources == ("a",)
    assert combined.dropped == ("b",)
    assert combined.change_24h is None  # nothing taken from the dropped source
    assert combined.volume_24h == 5.0


def test_with_two_sources_the_preferred_one_wins_whichever_is_higher() -> None:
    combined = combine_quotes("BTC", [quote("b", 150.0), quote("a", 100.0)])
    assert (combined.price_usd, combined.sources, combined.dropped) == (150.0, ("b",), ("a",))


def test_with_two_sources_that_agree_the_price_is_their_mean() -> None:
    combined = combine_quotes("BTC", [quote("a", 100.0), quote("b", 101.0)])
    assert combined.price_usd == pytest.approx(100.5)
    assert combined.sources == ("a", "b")
    assert combined.dropped == ()


def test_with_two_sources_exactly_2_percent_apart_both_are_kept() -> None:
    combined = combine_quotes("BTC", [quote("a", 100.0), quote("b", 102.0)])
    assert combined.price_usd == pytest.approx(101.0)
    assert combined.dropped == ()


@pytest.mark.parametrize("order", ["low-first", "high-first"])
@pytest.mark.parametrize(
    ("low", "high", "agree"),
    [
        (100.0, 101.99, True),  # 1.99 apart: within 2% of the lower price
        (100.0, 102.01, False),  # 2.01 apart: past 2% of the lower (2.00), though within 2% of the higher (2.0402)
        (50.0, 51.02, False),  # 1.02 apart: past 2% of 50 (1.00), within 2% of 51.02 (1.0204)
    ],
)
def test_two_sources_are_judged_against_the_lower_price(low: float, high: float, agree: bool, order: str) -> None:
    first, second = (quote("a", low), quote("b", high)) if order == "low-first" else (quote("a", high), quote("b", low))
    combined = combine_quotes("BTC", [first, second])
    if agree:
        assert combined.price_usd == pytest.approx((low + high) / 2)
        assert (combined.sources, combined.dropped) == (("a", "b"), ())
    else:  # no majority: the preferred (first) source is served
        assert combined.price_usd == first.price_usd
        assert (combined.sources, combined.dropped) == (("a",), ("b",))


def test_with_two_sources_the_configured_max_deviation_applies() -> None:
    assert combine_quotes("BTC", [quote("a", 100.0), quote("b", 150.0)], 0.6).price_usd == 125.0
    assert combine_quotes("BTC", [quote("a", 100.0), quote("b", 101.0)], 0.005).dropped == ("b",)


def test_when_every_source_disagrees_with_the_median_the_preferred_one_is_kept() -> None:
    quotes = [quote("a", 300.0), quote("b", 100.0), quote("c", 200.0), quote("d", 400.0)]  # median 250
    combined = combine_quotes("BTC", quotes)
    assert combined.price_usd == 300.0
    assert combined.sources == ("a",)
    assert combined.dropped == ("b", "c", "d")


@pytest.mark.parametrize(
    ("max_deviation", "price", "sources", "dropped"),
    [
        (0.05, 100.5, ("a", "b", "c"), ()),  # 103 is 2.5% off: fine at 5%
        (0.02, 100.25, ("a", "b"), ("c",)),  # ... but not at 2%
        (0.001, 100.5, ("b",), ("a", "c")),  # 0.1%: only the median itself agrees
    ],
)
def test_custom_max_deviation(
    max_deviation: float, price: float, sources: tuple[str, ...], dropped: tuple[str, ...]
) -> None:
    quotes = [quote("a", 100.0), quote("b", 100.5), quote("c", 103.0)]
    combined = combine_quotes("BTC", quotes, max_deviation)
    assert combined.price_usd == pytest.approx(price)
    assert combined.sources == sources
    assert combined.dropped == dropped


def testsecondary_fields_come_from_the_most_preferred_source_that_publishes_them() -> None:
    quotes = [
        quote("a", 100.0, change=None, volume=5.0, cap=None),
        quote("b", 100.1, change=1.0, volume=7.0, cap=9e11),
        quote("c", 100.2, change=2.0, volume=8.0, cap=8e11),
    ]
    combined = combine_quotes("BTC", quotes)
    assert combined.change_24h == 1.0
    assert combined.volume_24h == 5.0
    assert combined.market_cap == 9e11


def testsecondary_fields_never_come_from_a_dropped_source() -> None:
    quotes = [
        quote("a", 500.0, change=-9.9, volume=1.0, cap=1.0),  # preferred, but wrong
        quote("b", 100.0, change=None, volume=7.0, cap=None),
        quote("c", 100.2, change=2.0, volume=8.0, cap=8e11),
    ]
    combined = combine_quotes("BTC", quotes)
    assert combined.dropped == ("a",)
    assert combined.change_24h == 2.0
    assert combined.volume_24h == 7.0
    assert combined.market_cap == 8e11


def test_fields_nobody_publishes_stay_none_not_zero() -> None:
    combined = combine_quotes("BTC", [quote("a", 100.0), quote("b", 100.0)])
    assert combined.change_24h is None
    assert combined.volume_24h is None
    assert combined.market_cap is None


def test_last_update_is_the_newest_among_kept_sources() -> None:
    quotes = [quote("a", 100.0, updated=T0 + 5), quote("b", 100.1, updated=T0 + 9), quote("c", 500.0, updated=T0 + 60)]
    assert combine_quotes("BTC", quotes).last_update == T0 + 9


def test_name_comes_from_the_most_preferred_source_with_a_real_name() -> None:
    quotes = [quote("a", 100.0, name=""), quote("b", 100.0, name="BTC"), quote("c", 100.0, name="Bitcoin")]
    assert combine_quotes("BTC", quotes).name == "Bitcoin"


def test_name_falls_back_to_the_display_name_table() -> None:
    quotes = [quote("a", 1.0, name="ADA", base="ADA"), quote("b", 1.0, name="", base="ADA")]
    assert combine_quotes("ADA", quotes).name == "Cardano"


def test_name_falls_back_to_the_ticker_for_an_asset_without_a_display_name() -> None:
    assert combine_quotes("FOO", [quote("a", 1.0, name="", base="FOO")]).name == "FOO"


def test_nothing_to_combine_is_an_error() -> None:
    with pytest.raises(ValueError):
        combine_quotes("BTC", [])


# properties ----------------------------------------------------------------------------------


@PROPERTY
@given(first=st.floats(min_value=0.0001, max_value=1e7), second=st.floats(min_value=0.0001, max_value=1e7))
def test_two_sources_give_their_mean_or_the_preferred_price_never_anything_else(
    first: float, second: float
) -> None:
    combined = combine_quotes("BTC", [quote("a", first), quote("b", second)])
    if combined.dropped:
        assert (combined.price_usd, combined.sources, combined.dropped) == (first, ("a",), ("b",))
        assert abs(first - second) > 0.02 * min(first, second)
    else:
        assert combined.price_usd == pytest.approx((first + second) / 2)
        assert abs(first - second) <= 0.02 * min(first, second)

_PRICE = st.floats(min_value=0.0001, max_value=1e7, allow_nan=False, allow_infinity=False)


@PROPERTY
@given(st.lists(_PRICE, min_size=1, max_size=8), st.sampled_from([0.005, 0.02, 0.1]))
def test_the_combined_price_lies_between_the_lowest_and_highest_quote(prices: list[float], max_dev: float) -> None:
    quotes = [quote(f"s{i}", p) for i, p in enumerate(prices)]
    combined = combine_quotes("BTC", quotes, max_dev)
    assert min(prices) <= combined.price_usd <= max(prices)
    # every source is either used or dropped, never both, never lost
    assert sorted(combined.sources + combined.dropped) == sorted(q.source for q in quotes)


@PROPERTY
@given(
    honest_base=st.floats(min_value=0.01, max_value=1e6),
    spreads=st.lists(st.floats(min_value=0.0, max_value=0.01), min_size=2, max_size=7),
    factor=st.sampled_from([10.0, 0.1]),
    position=st.integers(min_value=0, max_value=7),
)
def test_one_wildly_skewed_source_among_three_or_more_never_sets_the_price(
    honest_base: float, spreads: list[float], factor: float, position: int
) -> None:
    honest = [quote(f"h{i}", honest_base * (1 + s)) for i, s in enumerate(spreads)]
    skewed = quote("skewed", honest_base * factor)
    quotes = honest[:]
    quotes.insert(min(position, len(quotes)), skewed)
    combined = combine_quotes("BTC", quotes)
    honest_prices = [q.price_usd for q in honest]
    assert combined.dropped == ("skewed",)
    assert min(honest_prices) <= combined.price_usd <= max(honest_prices)


def test_one_source_has_no_spread_and_is_not_disputed() -> None:
    combined = combine_quotes("BTC", [quote("coingecko", 100.0)])
    assert (combined.spread, combined.disputed) == (0.0, False)


def test_the_spread_is_max_minus_min_of_every_answering_source_over_the_served_price() -> None:
    combined = combine_quotes("BTC", [quote("coingecko", 100.0), quote("coincap", 101.0), quote("binance", 99.5)])
    assert combined.price_usd == 100.0
    assert combined.spread == pytest.approx(1.5 / 100.0)
    assert combined.disputed is False


def test_a_majority_settles_an_outlier_without_a_dispute_but_the_spread_shows_it() -> None:
    combined = combine_quotes("BTC", [quote("coingecko", 100.0), quote("coincap", 130.0), quote("binance", 100.5)])
    assert combined.dropped == ("coincap",)
    assert combined.disputed is False
    assert combined.spread == pytest.approx(30.0 / 100.25)


def test_two_sources_that_disagree_are_disputed() -> None:
    combined = combine_quotes("BTC", [quote("coingecko", 100.0), quote("binance", 110.0)])
    assert (combined.price_usd, combined.dropped, combined.disputed) == (100.0, ("binance",), True)
    assert combined.spread == pytest.approx(0.1)


def test_two_sources_that_agree_are_not_disputed() -> None:
    combined = combine_quotes("BTC", [quote("coingecko", 100.0), quote("binance", 101.0)])
    assert (combined.disputed, combined.spread) == (False, pytest.approx(1.0 / 100.5))


def test_three_sources_all_apart_leave_no_majority_and_are_disputed() -> None:
    combined = combine_quotes("BTC", [quote("coingecko", 100.0), quote("coincap", 110.0), quote("binance", 121.0)])
    assert (combined.price_usd, combined.sources, combined.disputed) == (110.0, ("coincap",), True)
    assert combined.spread == pytest.approx(21.0 / 110.0)


def test_four_sources_split_two_and_two_are_disputed() -> None:
    combined = combine_quotes(
        "BTC", [quote("coingecko", 100.0), quote("coincap", 100.5), quote("binance", 110.0), quote("bybit", 110.2)]
    )
    assert combined.disputed is True
