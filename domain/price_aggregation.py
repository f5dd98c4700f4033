"""Combining several providers' quotes for one asset into the price the service serves."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from domain.asset import display_name
from domain.quote import CombinedQuote, Quote

DEFAULT_MAX_DEVIATION = 0.02


def combine_quotes(
    base: str, quotes: Sequence[Quote], max_deviation: float = DEFAULT_MAX_DEVIATION
) -> CombinedQuote:
    """Combine quotes (given in provider preference order) for ``base``.

    The price is the median of the providers' prices. With three or more sources, a source
    whose price deviates from that median by more than ``max_deviation`` (a share, 0.02 = 2%)
    is dropped and the median is taken again over the rest, so one wrong source cannot set
    the price. Two sources within ``max_deviation`` of each other are averaged; two that
    disagree by more have no majority to judge by, and their average would be a price that
    exists nowhere, so the preferred (first) source is served and the other dropped. A quote whose
    price no majority of the answering sources backs (two that disagree; three all apart) is
    marked ``disputed``.
    ``spread`` is (max - min) of every answering source's price over the served price.
    Secondary fields (change, volume, market cap) come from the most preferred kept source
    that publishes them.
    """
    if not quotes:
        raise ValueError(f"no quotes to combine for {base}")
    kept = list(quotes)
    dropped: list[str] = []
    if len(quotes) >= 3:
        centre = statistics.median(q.price_usd for q in quotes)
        kept = [q for q in quotes if abs(q.price_usd - centre) <= max_deviation * centre]
        dropped = [q.source for q in quotes if q not in kept]
        if not kept:  # everyone disagrees with everyone: trust the preferred source
            kept, dropped = [quotes[0]], [q.source for q in quotes[1:]]
    elif len(quotes) == 2:
        first, second = quotes
        if abs(first.price_usd - second.price_usd) > max_deviation * min(first.price_usd, second.price_usd):
            kept, dropped = [first], [second.source]
    price = statistics.median(q.price_usd for q in kept)
    prices = [q.price_usd for q in quotes]
    return CombinedQuote(
        symbol=base,
        name=next((q.name for q in kept if q.name and q.name != base), display_name(base)),
        price_usd=price,
        change_24h=_first(q.change_24h for q in kept),
        volume_24h=_first(q.volume_24h for q in kept),
        market_cap=_first(q.market_cap for q in kept),
        last_update=max(q.last_update for q in kept),
        sources=tuple(q.source for q in kept),
        dropped=tuple(dropped),
        spread=(max(prices) - min(prices)) / price if price else 0.0,
        # No majority of the answering sources behind the price: it is one side's word.
        disputed=len(quotes) >= 2 and 2 * len(kept) <= len(quotes),
    )


def _first(values: object) -> float | None:
    for value in values:  # type: ignore[attr-defined]
        if value is not None:
            return float(value)
    return None
