"""GetSentiment: the Fear & Greed summary, never a made-up value."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from application.get_sentiment import GetSentiment
from domain.errors import AllProvidersFailed, FeatureDisabled, ProviderUnavailable
from tests.fakes import FakeSentimentProvider
from tests.unit.world import T0, Infrastructure, infrastructure

TTL = 600.0


@dataclass
class Setup:
    use_case: GetSentiment
    provider: FakeSentimentProvider
    infra: Infrastructure


def setup(values: tuple[int, ...] = (60, 58, 40, 70, 65, 62, 59), *, enabled: bool = True,
          disabled: tuple[str, ...] = ()) -> Setup:  # fmt: skip
    provider = FakeSentimentProvider(values=values)
    infra = infrastructure([provider.name], disabled)
    return Setup(GetSentiment([provider], infra.calls, infra.read_through, TTL, enabled), provider, infra)


async def test_serves_todays_reading_and_the_overall_sentiment() -> None:
    s = setup()
    served = await s.use_case.execute()
    sentiment = served.value
    assert served.stale is False
    assert sentiment.fear_greed.value == 60
    assert sentiment.overall.sentiment == "bullish"
    assert sentiment.overall.score == 60
    assert sentiment.overall.confidence == 0.86  # 6 of 7 readings are bullish
    assert sentiment.source == "alternative_me"
    assert s.provider.calls == 1


async def test_the_summary_covers_the_last_week() -> None:
    s = setup(values=(50, 50, 50, 50, 50, 50, 50, 10, 10, 10))
    sentiment = (await s.use_case.execute()).value
    assert len(sentiment.history) == 7
    assert sentiment.overall.confidence == 1.0


async def test_switched_off_it_fails_without_calling_the_provider() -> None:
    s = setup(enabled=False)
    with pytest.raises(FeatureDisabled) as caught:
        await s.use_case.execute()
    assert "ENABLE_SENTIMENT" in str(caught.value)
    assert s.provider.calls == 0
    assert await s.infra.cache.get("sentiment:fear_greed") is None  # nothing made up, nothing stored


async def test_switched_off_it_refuses_even_with_a_cached_reading() -> None:
    s = setup(enabled=False)
    await s.infra.cache.set("sentiment:fear_greed", "left over", ttl=TTL, stale_ttl=0)
    with pytest.raises(FeatureDisabled):
        await s.use_case.execute()
    assert s.provider.calls == 0


async def test_a_provider_disabled_in_provider_calls_is_not_called() -> None:
    s = setup(disabled=("alternative_me",))
    with pytest.raises(AllProvidersFailed):
        await s.use_case.execute()
    assert s.provider.calls == 0


async def test_an_answer_without_readings_is_a_failure_not_a_made_up_value() -> None:
    s = setup(values=())
    with pytest.raises(AllProvidersFailed) as caught:
        await s.use_case.execute()
    assert set(caught.value.failures) == {"alternative_me"}
    assert await s.infra.cache.get("sentiment:fear_greed") is None


async def test_a_provider_failure_is_reported() -> None:
    s = setup()
    s.provider.error = ProviderUnavailable("alternative_me", "HTTP 500", retry_after=9)
    with pytest.raises(AllProvidersFailed) as caught:
        await s.use_case.execute()
    assert caught.value.failures == {"alternative_me": "HTTP 500"}
    assert caught.value.retry_after == 9


async def test_a_second_request_is_served_from_cache() -> None:
    s = setup()
    await s.use_case.execute()
    await s.use_case.execute()
    assert s.provider.calls == 1


async def test_after_the_ttl_empty_readings_leave_the_last_real_value_served_stale() -> None:
    s = setup()
    first = await s.use_case.execute()
    s.infra.clock.advance(TTL + 1)
    s.provider.values = ()
    served = await s.use_case.execute()
    assert served.stale is True
    assert served.value == first.value
    assert served.fetched_at == T0
    assert s.provider.calls == 2
