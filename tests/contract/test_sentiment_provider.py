"""The SentimentProvider contract, for alternative.me and the fake."""

from __future__ import annotations

import itertools

import pytest

from domain.errors import ProviderError
from domain.ports import SentimentProvider
from tests.contract.conftest import Subject


def test_it_is_a_sentiment_provider(sentiment_subject: Subject) -> None:
    assert isinstance(sentiment_subject.impl, SentimentProvider)
    assert sentiment_subject.impl.name == sentiment_subject.name


@pytest.mark.parametrize("days", [1, 7, 30])
async def test_readings_honour_the_contract(sentiment_subject: Subject, days: int) -> None:
    history = await sentiment_subject.impl.fetch_fear_greed(days)

    assert 1 <= len(history.readings) <= days
    stamps = [r.timestamp for r in history.readings]
    assert all(newer > older for newer, older in itertools.pairwise(stamps))  # newest first
    for reading in history.readings:
        assert isinstance(reading.value, int) and 0 <= reading.value <= 100
        assert isinstance(reading.classification, str) and reading.classification
        assert 0 < reading.timestamp < 10**11  # epoch seconds
    assert history.source == sentiment_subject.name


async def test_a_failing_provider_raises_rather_than_a_neutral_value(sentiment_subject: Subject) -> None:
    sentiment_subject.fail()
    with pytest.raises(ProviderError) as caught:
        await sentiment_subject.impl.fetch_fear_greed(7)
    assert caught.value.provider == sentiment_subject.name
