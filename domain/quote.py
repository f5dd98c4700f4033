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
    others and were left out. ``spread`` is how far apart every answering source's price was:
    max minus min over the served price (0 with one source). ``disputed`` is True when those
    sources disagreed beyond the allowed deviation with no majority to settle it, so the price
    served is only the preferred source's word.
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
    spread: float = 0.0
    disputed: bool = False


@dataclass(frozen=True, slots=True)
class PriceBoard:
    """Combined quotes for the requested assets; ``missing`` lists assets no provider had and
    ``failures`` the providers that failed while the board was made, with their reasons;
    ``asked`` every provider that was called for it."""

    quotes: tuple[CombinedQuote, ...]
    sources: tuple[str, ...]
    missing: tuple[str, ...] = field(default=())
    failures: tuple[tuple[str, str], ...] = field(default=())
    asked: tuple[str, ...] = field(default=())

    def select(self, bases: tuple[str, ...]) -> PriceBoard:
        """The quotes for ``bases``, in that order; the others it asked for become ``missing``.

        ``sources`` keeps only the providers that contributed to the selected quotes.
        """
        by_base = {quote.symbol: quote for quote in self.quotes}
        chosen = tuple(by_base[base] for base in bases if base in by_base)
        used = {source for quote in chosen for source in quote.sources}
        return PriceBoard(
            quotes=chosen,
            sources=tuple(source for source in self.sources if source in used),
            missing=tuple(base for base in bases if base not in by_base),
            failures=self.failures,
            asked=self.asked,
        )
