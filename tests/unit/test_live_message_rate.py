"""The per-connection cap on WebSocket client messages."""

from __future__ import annotations

import pytest

from entrypoints.rest.live.message_rate import MessageRate


def test_a_burst_up_to_the_rate_then_one_answered_refusal_then_silence() -> None:
    rate = MessageRate(3, now=10.0)
    assert [rate.take(10.0) for _ in range(6)] == [
        (True, False), (True, False), (True, False), (False, True), (False, False), (False, False)
    ]
    assert rate.retry_after() == 1


def test_the_rate_refills_over_time() -> None:
    rate = MessageRate(4, now=0.0)
    for _ in range(4):
        rate.take(0.0)
    assert rate.take(0.1) == (False, True)
    assert rate.take(0.25) == (True, False)  # 0.25 s at 4/s: one message
    assert rate.take(0.25) == (False, True)  # a new refusal after an accepted message is answered again
    assert rate.take(10.0) == (True, False)
    assert [rate.take(10.0)[0] for _ in range(4)] == [True, True, True, False]  # the burst is capped at 4


def test_retry_after_is_whole_seconds_until_a_message_is_accepted() -> None:
    rate = MessageRate(1, now=0.0)
    rate.take(0.0)
    assert rate.take(0.1) == (False, True)
    assert rate.retry_after() == 1
    with pytest.raises(ValueError):
        MessageRate(0, now=0.0)
