"""Use case: the global market overview."""

from __future__ import annotations

from collections.abc import Sequence

from application.fallback_chain import first_answer
from application.provider_calls import ProviderCalls
from application.read_through import ReadThrough
from application.served import Served
from domain.market import MarketOverview
from domain.ports import MarketOverviewProvider


class GetMarketOverview:
    """Market totals from the first overview provider that answers, cached."""

    def __init__(
        self,
        providers: Sequence[MarketOverviewProvider],
        calls: ProviderCalls,
        read_through: ReadThrough,
        ttl: float,
    ) -> None:
        self._providers = tuple(providers)
        self._calls = calls
        self._read_through = read_through
        self._ttl = ttl

    async def execute(self) -> Served[MarketOverview]:
        """Serve the market overview."""
        return await self._read_through.get(
            "market:overview",
            self._ttl,
            lambda: first_answer(self._providers, self._calls, lambda p: p.fetch_overview()),
        )
