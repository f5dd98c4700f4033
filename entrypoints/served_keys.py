"""What an answer depends on, for the transports' memos of encoded answers.

Each key names everything a body is rendered from, ``fetched_at`` of the cache entry
included: a refreshed entry has another key, so it is rendered afresh.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from application.read_through import Served
from domain.candle import CandleSeries
from domain.quote import PriceBoard


def ohlcv(served: Served[CandleSeries]) -> Hashable:
    """The key of a candles answer: market, interval, how many, source, entry, staleness."""
    s = served.value
    return (
        "ohlcv",
        s.symbol.pair,
        s.interval.name,
        len(s.candles),
        s.source,
        served.fetched_at,
        served.stale,
    )


def prices(served: Served[PriceBoard]) -> Hashable:
    """The key of a prices answer: the symbols selected, the entry and its staleness."""
    board = served.value
    quoted = tuple(q.symbol for q in board.quotes)
    return ("prices", quoted, board.missing, board.sources, served.fetched_at, served.stale)


def single(kind: str, served: Served[Any]) -> Hashable:
    """The key of an answer that is the whole cached value (sentiment, market overview)."""
    return (kind, served.value.source, served.fetched_at, served.stale)
