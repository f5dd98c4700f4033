"""Use case: spot prices combined from every configured price provider that answers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from application.provider_calls import ProviderCalls
from application.read_through import ReadThrough
from application.served import Served
from domain.errors import AllProvidersFailed, ProviderDisabled, ProviderError, UpstreamRejected
from domain.fallback import FallbackAttempts
from domain.ports import PriceProvider
from domain.price_aggregation import combine_quotes
from domain.quote import PriceBoard, Quote
from domain.symbol import SymbolParser

_BOARD_KEY = "prices:board"


class GetPrices:
    """Asks the price providers concurrently and combines their quotes per asset.

    Every provider is asked for every supported asset in one batched call, and the combined
    board is cached once: each request is served its own selection of it, so requests for
    different symbol lists share one upstream call per provider.
    """

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
        """Validate the symbol list (before any upstream call) and serve its quotes."""
        bases = self._symbols.parse_bases(symbols)
        served = await self._read_through.get(_BOARD_KEY, self._ttl, self._fetch_every_base)
        board = served.value.select(bases)
        if not board.quotes:
            failures = dict(served.value.failures)
            for source in served.value.asked:
                failures.setdefault(source, f"no quote for {', '.join(bases)}")
            raise AllProvidersFailed(failures)
        return served.narrowed(board, bases)

    async def _fetch_every_base(self) -> PriceBoard:
        return await self._fetch(self._symbols.parse_bases(None))

    async def _fetch(self, bases: tuple[str, ...]) -> PriceBoard:
        attempts = FallbackAttempts()
        asked: list[tuple[PriceProvider, list[str]]] = []
        for provider in self._providers:
            if not self._calls.is_enabled(provider.name):
                attempts.record(ProviderDisabled(provider.name, "disabled by configuration"))
                continue
            listed = [base for base in bases if provider.lists(base)]
            if listed:
                asked.append((provider, listed))
            else:
                attempts.record(UpstreamRejected(provider.name, "lists none of the symbols"))
        answers = await asyncio.gather(
            *(self._calls.run(p.name, lambda p=p, b=b: p.fetch_quotes(b)) for p, b in asked),  # type: ignore[misc]
            return_exceptions=True,
        )
        by_provider: list[dict[str, Quote]] = []
        for (provider, _), answer in zip(asked, answers):
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
            for (provider, _), answer in zip(asked, answers):
                if not isinstance(answer, BaseException):
                    attempts.record(ProviderError(provider.name, "quoted none of the symbols"))
            raise attempts.exhausted()
        used = {source for quote in combined for source in quote.sources}
        return PriceBoard(
            quotes=tuple(combined),
            sources=tuple(p.name for p, _ in asked if p.name in used),
            missing=tuple(missing),
            failures=tuple(attempts.failures.items()),
            asked=tuple(p.name for p, _ in asked),
        )
