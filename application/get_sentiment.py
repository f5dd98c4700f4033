"""Use case: market sentiment from the Fear & Greed index."""

from __future__ import annotations

from collections.abc import Sequence

from application.fallback_chain import first_answer
from application.provider_calls import ProviderCalls
from application.read_through import ReadThrough
from application.served import Served
from domain.errors import BadPayload, FeatureDisabled
from domain.ports import SentimentProvider
from domain.sentiment import FearGreedHistory, Sentiment, summarise

HISTORY_DAYS = 7


class GetSentiment:
    """Today's Fear & Greed reading and an overall sentiment derived from the last week."""

    def __init__(
        self,
        providers: Sequence[SentimentProvider],
        calls: ProviderCalls,
        read_through: ReadThrough,
        ttl: float,
        enabled: bool = True,
    ) -> None:
        self._providers = tuple(providers)
        self._calls = calls
        self._read_through = read_through
        self._ttl = ttl
        self._enabled = enabled

    async def execute(self) -> Served[Sentiment]:
        """Serve the sentiment; with ENABLE_SENTIMENT off, refuse rather than invent a value."""
        if not self._enabled:
            raise FeatureDisabled("sentiment is switched off on this service (ENABLE_SENTIMENT=false)")
        return await self._read_through.get("sentiment:fear_greed", self._ttl, self._fetch)

    async def _fetch(self) -> Sentiment:
        history = await first_answer(self._providers, self._calls, self._history)
        return summarise(history)

    @staticmethod
    async def _history(provider: SentimentProvider) -> FearGreedHistory:
        history = await provider.fetch_fear_greed(HISTORY_DAYS)
        if not history.readings:
            raise BadPayload(provider.name, "no readings in the answer")
        return history
