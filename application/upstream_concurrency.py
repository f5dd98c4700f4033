"""How many provider calls this service can have under way at once."""

from __future__ import annotations

from collections.abc import Sequence

from domain.symbol import QUOTES

#: The most upstream connections one process opens, whatever the settings: each is a file
#: descriptor, and hundreds of sockets to one provider look like abuse to it. Past this, a burst
#: of cold keys waits for a connection (within REQUEST_TIMEOUT); our own budgets keep far fewer
#: calls per second than this in flight anyway.
MOST_CONNECTIONS = 256


def most_calls_in_flight(
    symbols: Sequence[str], intervals: Sequence[str], price_providers: Sequence[str]
) -> int:
    """The most provider calls one process can have under way at the same time, capped at
    ``MOST_CONNECTIONS``.

    Single-flight (``ReadThrough``) makes at most one fetch per cache key at a time, and each
    fetch is one HTTP call per provider asked: an OHLCV key (one per market, i.e. base and
    quote, and interval) asks one provider at a time down its fallback chain, the price board
    asks every price provider at once, and sentiment and the market overview one provider
    each. A connection pool this large never makes a call wait for a connection, so
    REQUEST_TIMEOUT is spent on the call alone (up to the cap).
    """
    markets = len(symbols) * len(QUOTES)
    return min(markets * len(intervals) + len(price_providers) + 2, MOST_CONNECTIONS)
