"""The reconnect backoff policy: capped, exponential, jittered, seeded."""

from __future__ import annotations

from random import Random

import pytest

from domain.reconnect_backoff import ReconnectBackoff


def test_the_ceiling_doubles_up_to_the_cap() -> None:
    backoff = ReconnectBackoff(base=1.0, cap=30.0, factor=2.0)
    assert [backoff.ceiling(n) for n in range(7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff.ceiling(10_000) == 30.0  # no overflow however long the outage


def test_waits_are_jittered_within_the_upper_half_of_the_ceiling() -> None:
    backoff = ReconnectBackoff(base=1.0, cap=30.0, jitter=0.5)
    rng = Random(3)
    waits = [backoff.delay(3, rng) for _ in range(200)]
    assert all(4.0 <= wait <= 8.0 for wait in waits)
    assert max(waits) - min(waits) > 3.5  # spread out, not one value


def test_a_seeded_generator_gives_the_same_waits() -> None:
    backoff = ReconnectBackoff()
    first = [backoff.delay(n, Random(42)) for n in range(5)]
    assert first == [backoff.delay(n, Random(42)) for n in range(5)]
    expected_draw = Random(42).random()
    assert first[2] == 4.0 - 0.5 * 4.0 * expected_draw


def test_no_jitter_means_the_ceiling() -> None:
    assert ReconnectBackoff(base=0.5, cap=2.0, jitter=0.0).delay(5, Random(1)) == 2.0


@pytest.mark.parametrize(
    "arguments", [{"base": 0.0}, {"base": 2.0, "cap": 1.0}, {"factor": 0.5}, {"jitter": 1.5}]
)
def test_nonsense_is_refused(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ReconnectBackoff(**arguments)
