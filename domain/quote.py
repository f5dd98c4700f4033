"""Spot quotes: one provider's view of an asset, and the combined board served to clients."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Quote:
    """A USD spot quote for one base asset from one provider.

    ``last_update`` is epoch seconds of the provider's own update time. Fields a provider does
    not publish are ``None``, never a made-up zero.
    """

    symbol: str
    name: str
    price_usd: float
    change_24h: float | None
    volume_24h: float | None
    market_cap: float | None
    last_update: float
    source: str


@dataclass(frozen=True, slots=True)
class CombinedQuote:
    """The price served for one asset, combined from every provider that answered.

    ``sources`` contributed to the price; ``dropped`` answered but deviated too far from the
    others and were left out.
    """

    symbol: str
    name: str
    price_usd: float
    change_24h: float | None
    volume_24h: float | None
    market_cap: float | None
    last_update: float
    sources: tuple[str, ...]
    dropped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PriceBoard:
    """Combined quotes for the requested assets; ``missing`` lists assets no provider had."""

    quotes: tuple[CombinedQuote, ...]
    sources: tuple[str, ...]
    missing: tuple[str, ...] = field(default=())

    def in_order(self, bases: tuple[str, ...]) -> PriceBoard:
        """This board with quotes in the order of ``bases`` (itself when already so)."""
        rank = {base: i for i, base in enumerate(bases)}
        ordered = tuple(sorted(self.quotes, key=lambda q: rank.get(q.symbol, len(rank))))
        if ordered == self.quotes:
            return self
        missing = tuple(sorted(self.missing, key=lambda b: rank.get(b, len(rank))))
        return PriceBoard(ordered, self.sources, missing)
