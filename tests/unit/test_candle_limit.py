"""check_limit: how many candles a client may ask for (1..1000)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.candle import check_limit
from domain.errors import InvalidParameter


@pytest.mark.parametrize("limit", [1, 2, 100, 999, 1000])
def test_limits_in_range_are_returned(limit: int) -> None:
    assert check_limit(limit) == limit


@pytest.mark.parametrize("limit", [0, -1, 1001, 10**9])
def test_limits_out_of_range_are_refused(limit: int) -> None:
    with pytest.raises(InvalidParameter) as caught:
        check_limit(limit)
    assert caught.value.field == "limit"


@settings(database=None, deadline=None)
@given(st.integers())
def test_any_integer_is_either_accepted_in_range_or_refused(limit: int) -> None:
    if 1 <= limit <= 1000:
        assert check_limit(limit) == limit
    else:
        with pytest.raises(InvalidParameter):
            check_limit(limit)
