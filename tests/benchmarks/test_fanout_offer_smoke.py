"""Smoke run of the fan-out micro-benchmark with tiny counts, so it cannot rot (no timing)."""

from __future__ import annotations

from tests.benchmarks.fanout_offer import main


def test_the_fanout_benchmark_runs_and_reports_each_subscriber_count() -> None:
    figures = main(["--events", "5", "--subscribers", "1,10"])
    assert [f.subscribers for f in figures] == [1, 10]
    assert all(f.delivered_ms_p99 >= f.delivered_ms_p50 > 0 for f in figures)
    assert figures[1].bytes_per_idle_subscriber > 0
