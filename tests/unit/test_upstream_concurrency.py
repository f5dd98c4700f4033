"""most_calls_in_flight: one connection per call that can be under way, never more than the cap."""

from __future__ import annotations

from application.upstream_concurrency import MOST_CONNECTIONS, most_calls_in_flight


def test_one_call_per_market_and_interval_with_each_quote_plus_every_price_provider_and_two() -> None:
    # 2 bases x 3 quotes (USDT, USDC, USD) x 3 intervals, 3 price providers, sentiment, overview.
    assert most_calls_in_flight(["BTC", "ETH"], ["1m", "1h", "1d"], ["coingecko", "coincap", "binance"]) == 23


def test_never_more_connections_than_the_cap() -> None:
    assert MOST_CONNECTIONS == 256
    symbols = [f"S{i}" for i in range(200)]
    assert most_calls_in_flight(symbols, ["1m", "5m", "15m", "1h", "4h", "1d", "1w"], ["coingecko"]) == 256
