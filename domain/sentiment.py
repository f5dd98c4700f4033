"""Market sentiment: the Fear & Greed index and the overall reading derived from it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FearGreed:
    """One daily Fear & Greed reading (0..100); ``timestamp`` is epoch seconds (00:00 UTC)."""

    value: int
    classification: str
    timestamp: float


@dataclass(frozen=True, slots=True)
class FearGreedHistory:
    """Readings from one provider, newest first."""

    readings: tuple[FearGreed, ...]
    source: str


@dataclass(frozen=True, slots=True)
class OverallSentiment:
    """A summary of the market mood: ``sentiment`` is bearish, neutral or bullish.

    ``score`` is the latest index value (0..100) and ``confidence`` (0..1) the share of
    recent readings that agree with today's band.
    """

    sentiment: str
    score: int
    confidence: float


@dataclass(frozen=True, slots=True)
class Sentiment:
    """What the sentiment endpoint serves."""

    fear_greed: FearGreed
    overall: OverallSentiment
    history: tuple[FearGreed, ...]
    source: str


_BANDS = ((25, "bearish"), (47, "bearish"), (55, "neutral"), (76, "bullish"), (101, "bullish"))


def band_of(value: int) -> str:
    """The sentiment band of an index value, using alternative.me's classification bounds.

    0–46 (Extreme Fear, Fear) is bearish, 47–54 neutral, 55–100 (Greed, Extreme Greed) bullish.
    """
    for upper, band in _BANDS:
        if value < upper:
            return band
    return "bullish"


def summarise(history: FearGreedHistory) -> Sentiment:
    """Derive the overall sentiment from real readings only (never a placeholder).

    Raises ``ValueError`` on an empty history: there is nothing honest to summarise.
    """
    if not history.readings:
        raise ValueError("no Fear & Greed readings to summarise")
    latest = history.readings[0]
    band = band_of(latest.value)
    agreeing = sum(1 for r in history.readings if band_of(r.value) == band)
    confidence = round(agreeing / len(history.readings), 2)
    return Sentiment(
        fear_greed=latest,
        overall=OverallSentiment(sentiment=band, score=latest.value, confidence=confidence),
        history=history.readings,
        source=history.source,
    )
