"""When a provider's circuit opens: the parameters, and which errors count."""

from __future__ import annotations

import asyncio

import pytest

from domain.breaker_policy import BreakerPolicy, counts_as_failure
from domain.errors import (
    BadPayload,
    BudgetExhausted,
    CircuitOpen,
    InvalidSymbol,
    ProviderDisabled,
    ProviderUnavailable,
    UpstreamBlocked,
    UpstreamRateLimited,
    UpstreamRejected,
)


def test_a_valid_policy_keeps_its_values() -> None:
    policy = BreakerPolicy(threshold=5, reset_timeout=60)
    assert (policy.threshold, policy.reset_timeout) == (5, 60)
    assert BreakerPolicy(threshold=1, reset_timeout=0.5).threshold == 1


def test_retry_after_counts_down_to_the_half_open_moment() -> None:
    policy = BreakerPolicy(threshold=1, reset_timeout=30)
    assert policy.retry_after(opened_at=1000.0, now=1010.0) == 20.0
    assert policy.retry_after(opened_at=1000.0, now=1030.0) == 0.0  # half-open from here on
    assert policy.retry_after(opened_at=1000.0, now=1031.0) < 0


@pytest.mark.parametrize("threshold", [0, -1])
def test_a_threshold_below_one_is_refused(threshold: int) -> None:
    with pytest.raises(ValueError):
        BreakerPolicy(threshold=threshold, reset_timeout=60)


@pytest.mark.parametrize("timeout", [0, 0.0, -5])
def test_a_non_positive_timeout_is_refused(timeout: float) -> None:
    with pytest.raises(ValueError):
        BreakerPolicy(threshold=5, reset_timeout=timeout)


@pytest.mark.parametrize(
    "error",
    [
        ProviderUnavailable("binance", "HTTP 503"),
        UpstreamRateLimited("binance", "HTTP 429", retry_after=10),
        UpstreamBlocked("binance", "HTTP 451"),
        BadPayload("kraken", "HTML instead of JSON"),
        TimeoutError(),
        asyncio.TimeoutError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_provider_faults_count_as_failures(error: BaseException) -> None:
    assert counts_as_failure(error) is True


@pytest.mark.parametrize(
    "error",
    [
        UpstreamRejected("kraken", "unknown asset pair"),
        ProviderDisabled("coincap", "no API key"),
        InvalidSymbol("unknown symbol"),
        CircuitOpen("binance", "circuit open"),
        BudgetExhausted("binance", "our budget is spent"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_request_faults_and_our_own_refusals_do_not_count(error: BaseException) -> None:
    assert counts_as_failure(error) is False
