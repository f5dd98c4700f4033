"""The failover policy of the upstream stream providers (domain.stream_failover)."""

from __future__ import annotations

from domain.live import StreamKey
from domain.stream_failover import StreamOption, assign_streams, takes_over
from tests.fake_streams import BTC, ETH, M1

CANDLES = StreamKey.candles(BTC, M1)
TICKER = StreamKey.ticker(BTC)
ETH_CANDLES = StreamKey.candles(ETH, M1)


def options(binance_down: bool = False, kraken_down: bool = False, kraken_has_eth: bool = True) -> tuple:
    return (
        StreamOption("binance", lambda key: True, binance_down),
        StreamOption("kraken", lambda key: kraken_has_eth or key.symbol != ETH, kraken_down),
    )


def test_every_stream_goes_to_the_first_provider_while_it_is_up() -> None:
    held = assign_streams({CANDLES, TICKER}, options(), {}, {})
    assert held == {"binance": frozenset({CANDLES, TICKER}), "kraken": frozenset()}


def test_a_down_provider_keeps_trying_while_the_next_one_serves() -> None:
    held = assign_streams({CANDLES}, options(binance_down=True), {}, {})
    assert held == {"binance": frozenset({CANDLES}), "kraken": frozenset({CANDLES})}


def test_a_stream_the_fallback_cannot_serve_stays_on_the_down_provider_only() -> None:
    held = assign_streams({ETH_CANDLES}, options(binance_down=True, kraken_has_eth=False), {}, {})
    assert held == {"binance": frozenset({ETH_CANDLES}), "kraken": frozenset()}


def test_the_provider_serving_a_stream_keeps_it_until_another_takes_over() -> None:
    held = assign_streams({CANDLES}, options(), {CANDLES: "kraken"}, {})
    assert held == {"binance": frozenset({CANDLES}), "kraken": frozenset({CANDLES})}


def test_the_provider_handing_over_keeps_it_while_the_new_one_catches_up() -> None:
    held = assign_streams({CANDLES}, options(), {CANDLES: "binance"}, {CANDLES: "kraken"})
    assert held == {"binance": frozenset({CANDLES}), "kraken": frozenset({CANDLES})}


def test_a_stream_no_longer_wanted_is_held_by_nobody_even_by_its_server() -> None:
    held = assign_streams(set(), options(), {CANDLES: "kraken"}, {CANDLES: "binance"})
    assert held == {"binance": frozenset(), "kraken": frozenset()}


def test_the_first_provider_live_serves_a_stream_nobody_serves() -> None:
    assert takes_over("kraken", CANDLES, options(), None) is True


def test_a_reconnect_of_the_serving_provider_takes_over_again_to_catch_up() -> None:
    assert takes_over("binance", CANDLES, options(), "binance") is True


def test_the_preferred_provider_takes_back_from_the_fallback() -> None:
    assert takes_over("binance", CANDLES, options(), "kraken") is True


def test_the_fallback_does_not_take_from_a_preferred_provider_that_is_only_reconnecting() -> None:
    assert takes_over("kraken", CANDLES, options(), "binance") is False


def test_the_fallback_takes_from_a_preferred_provider_that_is_down() -> None:
    assert takes_over("kraken", CANDLES, options(binance_down=True), "binance") is True


def test_a_provider_that_cannot_serve_the_stream_or_is_unknown_never_takes_it() -> None:
    assert takes_over("kraken", ETH_CANDLES, options(kraken_has_eth=False), None) is False
    assert takes_over("coinbase", CANDLES, options(), None) is False
