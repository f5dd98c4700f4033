"""Use case: spot prices combined from every configured price provider that answers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from application.provider_calls import ProviderCalls
from application.read_through import ReadThrough, Served
from domain.errors import ProviderDisabled, ProviderError
from domain.fallback import FallbackAttempts
from domain.ports import PriceProvider
from domain.price_aggregation import combine_quotes
from domain.quote import PriceBoard, Quote
from domain.symbol import SymbolParser


class GetPrices:
    """Asks the price providers concurrently and combines their quotes per asset."""

    def __init__(
        self,
        symbols: SymbolParser,
        providers: Sequence[PriceProvider],
        calls: ProviderCalls,
        read_through: ReadThrough,
        ttl: float,
        max_deviation: float,
    ) -> None:
        self._symbols = symbols
        self._providers = tuple(providers)
        self._calls = calls
        self._read_through = read_through
        self._ttl = ttl
        self._max_deviation = max_deviation

    async def execute(self, symbols: str | None) -> Served[PriceBoard]:
        """Validate the symbol list (before any upstream call) and serve the board."""
        bases = self._symbols.parse_bases(symbols)
        key = "prices:" + ",".join(sorted(bases))  # one entry per set of symbols, any order
        served = await self._read_through.get(key, self._ttl, lambda: self._fetch(bases))
        board = served.value.in_order(bases)
        return served if board is served.value else Served(board, served.stale, served.fetched_at)

    async def _fetch(self, bases: tuple[str, ...]) -> PriceBoard:
        attempts = FallbackAttempts()
        enabled = []
        for provider in self._providers:
            if self._calls.is_enabled(provider.name):
                enabled.append(provider)
            else:
                attempts.record(ProviderDisabled(provider.name, "disabled by configuration"))
        answers = await asyncio.gather(
            *(self._calls.run(p.name, lambda p=p: p.fetch_quotes(bases)) for p in enabled),  # type: ignore[misc]
            return_exceptions=True,
        )
        by_provider: list[dict[str, Quote]] = []
        for provider, answer in zip(enabled, answers):
            if isinstance(answer, ProviderError):
                attempts.record(answer)
            elif isinstance(answer, BaseException):
                raise answer
            else:
                by_provider.append(answer)
        combined = []
        missing = []
        for base in bases:
            quotes = [answer[base] for answer in by_provider if base in answer]
            if quotes:
                combined.append(combine_quotes(base, quotes, self._max_deviation))
            else:
                missing.append(base)
        if not combined:
            for provider, answer in zip(enabled, answers):
                if not isinstance(answer, BaseException):
                    attempts.record(ProviderError(provider.name, "listed none of the symbols"))
            raise attempts.exhausted()
        used = {source for quote in combined for source in quote.sources}
        return PriceBoard(
            quotes=tuple(combined),
            sources=tuple(p.name for p in enabled if p.name in used),
            missing=tuple(missing),
        )
