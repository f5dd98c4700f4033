"""How many provider calls this service can have under way at once."""

from __future__ import annotations

from collections.abc import Sequence


def most_calls_in_flight(
    symbols: Sequence[str], intervals: Sequence[str], price_providers: Sequence[str]
) -> int:
    """The most provider calls one process can have under way at the same time.

    Single-flight (``ReadThrough``) makes at most one fetch per cache key at a time, and each
    fetch is one HTTP call per provider asked: an OHLCV key (one per market and interval)
    asks one provider at a time down its fallback chain, the price board asks every price
    provider at once, and sentiment and the market overview one provider each. A connection
    pool this large never makes a call wait for a connection, so REQUEST_TIMEOUT is spent
    on the call alone.
    """
    return len(symbols) * len(intervals) + len(price_providers) + 2
