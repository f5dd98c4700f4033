"""This replica's watchers per stream, and how long a stream stays wanted after the last one
left (application.live.local_interest, on a fake clock)."""

from __future__ import annotations

from application.live.local_interest import LocalInterest
from domain.live import StreamKey
from tests.fake_streams import BTC, ETH, M1
from tests.fakes import FakeClock

CANDLES = StreamKey.candles(BTC, M1)
TICKER = StreamKey.ticker(ETH)


def test_a_watched_stream_is_wanted_and_counted() -> None:
    interest = LocalInterest(FakeClock(), idle_timeout=60)
    interest.watch(CANDLES)
    interest.watch(CANDLES)
    interest.watch(TICKER)
    assert interest.wanted() == {CANDLES, TICKER}
    assert interest.watchers(CANDLES) == 2


def test_a_stream_stays_wanted_until_the_idle_timeout_after_its_last_watcher_left() -> None:
    clock = FakeClock()
    interest = LocalInterest(clock, idle_timeout=60)
    interest.watch(CANDLES)
    interest.watch(CANDLES)
    interest.unwatch(CANDLES)
    clock.advance(3600)
    assert interest.wanted() == {CANDLES}  # one watcher left: no idle time runs
    interest.unwatch(CANDLES)
    clock.advance(59.9)
    assert interest.wanted() == {CANDLES}
    clock.advance(0.1)
    assert interest.wanted() == frozenset()


def test_a_watcher_coming_back_within_the_idle_time_keeps_the_stream() -> None:
    clock = FakeClock()
    interest = LocalInterest(clock, idle_timeout=60)
    interest.watch(CANDLES)
    interest.unwatch(CANDLES)
    clock.advance(30)
    interest.watch(CANDLES)
    clock.advance(3600)
    assert interest.wanted() == {CANDLES}


def test_an_unwatch_without_a_watch_is_ignored() -> None:
    interest = LocalInterest(FakeClock(), idle_timeout=60)
    interest.unwatch(CANDLES)
    assert interest.wanted() == frozenset()
    interest.watch(CANDLES)
    assert interest.watchers(CANDLES) == 1


def test_changes_are_signalled_on_watch_and_when_an_idle_time_runs_out() -> None:
    clock = FakeClock()
    interest = LocalInterest(clock, idle_timeout=60)
    interest.watch(CANDLES)
    assert interest.changed.is_set()
    interest.changed.clear()
    interest.unwatch(CANDLES)
    interest.wanted()
    assert not interest.changed.is_set()
    clock.advance(60)
    interest.wanted()
    assert interest.changed.is_set()
