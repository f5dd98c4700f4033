"""Monday-aligned weekly candles built from daily ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.candle import Candle
from domain.candle_resampling import daily_to_weekly, monday_week_start

DAY = timedelta(days=1)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def monday_of(moment: datetime) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


@pytest.mark.parametrize(
    ("moment", "monday"),
    [
        (datetime(2024, 5, 15, 13, 45, tzinfo=UTC), datetime(2024, 5, 13, tzinfo=UTC)),  # Wednesday
        (datetime(2024, 5, 13, tzinfo=UTC), datetime(2024, 5, 13, tzinfo=UTC)),  # Monday 00:00 itself
        (datetime(2024, 5, 19, 23, 59, 59, 999000, tzinfo=UTC), datetime(2024, 5, 13, tzinfo=UTC)),  # Sunday
        (datetime(2024, 5, 20, tzinfo=UTC), datetime(2024, 5, 20, tzinfo=UTC)),  # the next Monday
        (datetime(2024, 2, 29, 12, tzinfo=UTC), datetime(2024, 2, 26, tzinfo=UTC)),  # leap day, Thursday
        (datetime(2000, 1, 1, tzinfo=UTC), datetime(1999, 12, 27, tzinfo=UTC)),  # Saturday, across a year
        (datetime(1970, 1, 1, tzinfo=UTC), datetime(1969, 12, 29, tzinfo=UTC)),  # the epoch, a Thursday
    ],
)
def test_monday_week_start_of_known_dates(moment: datetime, monday: datetime) -> None:
    assert monday.weekday() == 0  # the table itself is right
    assert monday_week_start(ms(moment)) == ms(monday)


@settings(database=None, deadline=None)
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)))
def test_monday_week_start_is_the_monday_midnight_utc_of_the_same_week(naive: datetime) -> None:
    moment = naive.replace(tzinfo=UTC, microsecond=naive.microsecond // 1000 * 1000)
    assert monday_week_start(ms(moment)) == ms(monday_of(moment))


def daily(start: datetime, bars: list[tuple[float, float, float, float, float]]) -> list[Candle]:
    return [Candle(ms(start + i * DAY), o, h, low, c, v) for i, (o, h, low, c, v) in enumerate(bars)]


FULL_WEEK = [  # open, high, low, close, volume; Monday..Sunday
    (100.0, 105.0, 98.0, 104.0, 1.0),
    (104.0, 112.0, 103.0, 110.0, 2.0),
    (110.0, 111.0, 95.0, 97.0, 3.0),
    (97.0, 101.0, 96.0, 100.0, 4.0),
    (100.0, 103.0, 99.0, 102.0, 5.0),
    (102.0, 104.0, 100.0, 101.0, 6.0),
    (101.0, 106.0, 100.0, 105.0, 7.0),
]
IN_PROGRESS = [  # Monday..Wednesday of the next week
    (105.0, 107.0, 104.0, 106.0, 10.0),
    (106.0, 120.0, 90.0, 91.0, 20.0),
    (91.0, 93.0, 89.0, 92.0, 30.0),
]
MONDAY = datetime(2024, 5, 6, tzinfo=UTC)


def test_daily_candles_aggregate_into_weeks() -> None:
    weeks = daily_to_weekly(daily(MONDAY, FULL_WEEK + IN_PROGRESS))
    assert weeks == (
        Candle(ms(MONDAY), 100.0, 112.0, 95.0, 105.0, 28.0),
        Candle(ms(MONDAY + 7 * DAY), 105.0, 120.0, 89.0, 92.0, 60.0),  # in progress, kept
    )


def test_a_leading_partial_week_is_dropped() -> None:
    thursday = MONDAY - 4 * DAY
    partial = [(1.0, 1000.0, 0.5, 1.0, 99.0)] * 4  # Thu..Sun of the previous week
    weeks = daily_to_weekly(daily(thursday, partial + FULL_WEEK))
    assert weeks == (Candle(ms(MONDAY), 100.0, 112.0, 95.0, 105.0, 28.0),)


def test_a_week_known_whole_is_kept_without_its_monday() -> None:
    # Every day from MONDAY on was asked for: a missing Monday is one the exchange lacks.
    tuesday_on = daily(MONDAY + DAY, FULL_WEEK[1:])
    assert daily_to_weekly(tuesday_on, whole_from_ms=ms(MONDAY)) == (
        Candle(ms(MONDAY), 104.0, 112.0, 95.0, 105.0, 27.0),
    )
    # Known whole only from the next Monday: this one may lie beyond what was asked.
    assert daily_to_weekly(tuesday_on, whole_from_ms=ms(MONDAY + 7 * DAY)) == ()


def test_a_lone_monday_is_a_week_in_progress() -> None:
    weeks = daily_to_weekly(daily(MONDAY, IN_PROGRESS[:1]))
    assert weeks == (Candle(ms(MONDAY), 105.0, 107.0, 104.0, 106.0, 10.0),)


def test_only_a_partial_week_gives_nothing() -> None:
    assert daily_to_weekly(daily(MONDAY + 2 * DAY, FULL_WEEK[:3])) == ()


def test_no_days_give_no_weeks() -> None:
    assert daily_to_weekly([]) == ()


def test_weekly_candles_open_on_mondays_oldest_first() -> None:
    bars = (FULL_WEEK * 3)[:17]
    weeks = daily_to_weekly(daily(MONDAY, bars))
    opens = [datetime.fromtimestamp(w.timestamp / 1000, tz=UTC) for w in weeks]
    assert opens == [MONDAY, MONDAY + 7 * DAY, MONDAY + 14 * DAY]
    assert [w.volume for w in weeks] == [28.0, 28.0, 6.0]  # 1+2+...+7 twice, then Mon+Tue+Wed
