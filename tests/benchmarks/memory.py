"""Resident memory with a full cache, and the bytes per cached candle (5)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from tests.benchmarks.lab import Lab, Server, request
from tests.benchmarks.options import INTERVALS, SYMBOLS, Options
from tests.benchmarks.processes import rss_kib
from tests.benchmarks.report import Report, Row

MB = 1_000_000


# -- 5. memory ---------------------------------------------------------------------------


def _short_note(short: dict[str, int]) -> str:
    """Which entries hold fewer than 1000 candles (a provider's history can be shorter)."""
    if not short:
        return ""
    by_count: dict[int, list[str]] = {}
    for query, count in short.items():
        by_count.setdefault(count, []).append(query.split("&limit=")[0])
    parts = [
        f"{len(queries)} entries hold {count} candles ({queries[0]}, ...)"
        for count, queries in by_count.items()
    ]
    return "; ".join(parts) + ": the upstream's history is that long"


def memory_service(lab: Lab, options: Options) -> Server:
    return lab.spawn_service("service-memory")


def memory(lab: Lab, options: Options, report: Report) -> None:
    """RSS with 14 symbols x 7 intervals x 1000 candles cached, and bytes per candle."""
    service = lab.wait_ready(memory_service(lab, options))
    try:
        pid = service.child.pid
        service.get("/api/health")
        time.sleep(0.5)
        idle = rss_kib(pid) * 1024
        symbols = SYMBOLS[: options.memory_symbols]
        paths = [f"/api/ohlcv?symbol={s}&interval={i}&limit=1000" for s in symbols for i in INTERVALS]

        def fetch(path: str) -> int:
            answer = request(service.rest_port or 0, "GET", path, timeout=120)
            if answer.status != 200:
                raise RuntimeError(f"{path}: {answer.status} {answer.body[:200]!r}")
            return int(answer.json()["count"])

        with ThreadPoolExecutor(max_workers=4) as pool:
            counts = list(pool.map(fetch, paths))
            reread = list(pool.map(fetch, paths))  # served from the full cache
        time.sleep(0.5)
        full = rss_kib(pid) * 1024
        peak = rss_kib(pid, "VmHWM") * 1024
    finally:
        lab.stop(service)
    candles = sum(counts)
    delta = full - idle
    per_candle = delta / candles if candles else None
    short = {p.split("?")[1]: c for p, c in zip(paths, counts, strict=True) if c < 1000}
    details = {
        "rss_idle_bytes": idle,
        "rss_full_bytes": full,
        "rss_peak_bytes": peak,
        "entries": len(paths),
        "candles": candles,
        "entries_short_of_1000": short,
        "reread_matches": reread == counts,
    }
    report.add(
        Row(
            benchmark="memory",
            figure=f"RSS with a full cache ({len(paths)} entries, {candles:,} candles)",
            measured=f"{full / MB:.1f} MB (peak {peak / MB:.1f} MB)",
            baseline=f"same process idle after start: {idle / MB:.1f} MB",
            ratio=full / idle,
            target="< 150 MB in total",
            met=full < 150 * MB,
            note=_short_note(short),
            details=details,
        )
    )
    report.add(
        Row(
            benchmark="memory",
            figure="bytes per cached candle (RSS growth / candles cached)",
            measured="n/a" if per_candle is None else f"{per_candle:.0f} bytes",
            baseline=f"RSS growth {delta / MB:.1f} MB for {candles:,} candles",
            ratio=None,
            target="(no target; < 150 MB total is the target)",
            met=None,
            details=details,
        )
    )
