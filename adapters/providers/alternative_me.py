"""alternative.me Fear & Greed index."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from adapters.providers.upstream import UpstreamClient, decode, status_error
from domain.errors import BadPayload, ProviderUnavailable
from domain.sentiment import FearGreed, FearGreedHistory

NAME = "alternative_me"


class _Reading(BaseModel):
    model_config = ConfigDict(extra="ignore")
    value: Annotated[int, Field(ge=0, le=100)]
    value_classification: str
    timestamp: int


class _Metadata(BaseModel):
    model_config = ConfigDict(extra="ignore")
    error: str | None = None


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    data: list[_Reading] = []
    metadata: _Metadata = _Metadata()


_ANSWER = TypeAdapter(_Answer)


class AlternativeMeAdapter:
    """Implements SentimentProvider over alternative.me's /fng/ endpoint."""

    name = NAME

    def __init__(self, client: UpstreamClient) -> None:
        self._client = client

    @property
    def enabled(self) -> bool:
        """The Fear & Greed index needs no key."""
        return True

    async def fetch_fear_greed(self, days: int) -> FearGreedHistory:
        """The last ``days`` daily readings, newest first."""
        # No date_format parameter: it would turn timestamps into date strings.
        response = await self._client.get("/fng/", {"limit": str(days)})
        if response.status != 200:
            raise status_error(NAME, response)
        answer = decode(NAME, response, _ANSWER)
        if answer.metadata.error:
            raise ProviderUnavailable(NAME, f"reported error: {answer.metadata.error}")
        if not answer.data:
            raise BadPayload(NAME, "no readings in the answer")
        readings = sorted(
            (FearGreed(r.value, r.value_classification, float(r.timestamp)) for r in answer.data),
            key=lambda reading: reading.timestamp,
            reverse=True,
        )
        return FearGreedHistory(tuple(readings[:days]), NAME)
