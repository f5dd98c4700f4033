"""The file-descriptor limit: raised to the hard limit, split into served connections and a reserve."""

from __future__ import annotations

import pytest

from entrypoints.rest.connections.file_limit import (
    HEADROOM,
    HEALTH_SLICE,
    FileLimit,
    open_descriptors,
    raise_file_limit,
)

resource = pytest.importorskip("resource")  # not on Windows


def test_the_reserve_is_the_descriptors_open_at_start_plus_headroom_plus_the_health_slice() -> None:
    limit = FileLimit(soft_before=1024, soft=65536, hard=65536, open_at_start=40)
    reserve = 40 + HEADROOM + HEALTH_SLICE
    assert (limit.reserve, limit.served, limit.with_reserve) == (reserve, 65536 - reserve, 65536 - reserve + 64)
    # What the service keeps for itself is never less than what it opened, its whole upstream
    # pool (256) and 128 more, whatever health and metrics take.
    assert limit.soft - limit.with_reserve == 40 + 256 + 128


def test_a_small_limit_keeps_half_for_the_reserve_and_a_quarter_of_that_for_health() -> None:
    limit = FileLimit(soft_before=200, soft=200, hard=200, open_at_start=30)
    assert (limit.reserve, limit.served, limit.with_reserve) == (100, 100, 125)


def test_no_limit_known_means_no_reserve() -> None:
    limit = FileLimit(soft_before=None, soft=None, hard=None, open_at_start=0)
    assert (limit.reserve, limit.served, limit.with_reserve) == (None, None, None)


def test_the_soft_limit_is_raised_to_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    raised = hard if hard != resource.RLIM_INFINITY else 1 << 20
    lowered = min(soft, 256)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowered, hard))
    try:
        limit = raise_file_limit()
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (raised, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert (limit.soft_before, limit.soft, limit.hard) == (lowered, raised, hard)
    assert 3 <= limit.open_at_start < 1000  # stdin, stdout, stderr at least


def test_open_descriptors_counts_this_process_s() -> None:
    before = open_descriptors()
    with open(__file__, "rb"):
        assert open_descriptors() == before + 1
