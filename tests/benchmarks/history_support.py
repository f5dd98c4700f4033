"""Measuring instruments of the history benchmarks: closed ranges in time, timed range requests,
streamed exports (rows/s, peak RSS, CPU), the candle store's size on disk and the Binance klines
calls the simulator logged."""

from __future__ import annotations

import asyncio
import http.client
import math
import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.benchmarks.lab import KeepAlive, Lab, Server, request
from tests.benchmarks.machine import load_average
from tests.benchmarks.processes import cpu_seconds, descendants, rss_kib

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
MB = 1_000_000
#: What one candle holds as numbers: its open time and OHLCV, 8 bytes each.
RAW_CANDLE_BYTES = 6 * 8
#: Candles per Binance klines page (PROVIDERS.md, "History").
BINANCE_PAGE = 1000


def closed_range(count: int, step_ms: int, now_ms: int | None = None) -> tuple[int, int]:
    """``[start, end)`` of ``count`` candles of ``step_ms`` ending at the start of today (UTC):
    every candle in it is closed, so nothing of it comes from the newest-candles window."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    end = now - now % DAY_MS
    return end - count * step_ms, end


def expected_pages(candles: int) -> int:
    """Upstream calls a fresh range of ``candles`` needs at best: one per Binance page."""
    return math.ceil(candles / BINANCE_PAGE)


def load_now() -> float | None:
    """The 1-minute load average right now (other engineers' tests share the 2 cores)."""
    figures = load_average()
    return None if figures is None else figures[0]


# -- timed range requests ---------------------------------------------------------------------


@dataclass
class Latencies:
    """Sequential requests on one keep-alive connection: their wall times, and the server's CPU."""

    seconds: list[float]
    candles: int
    body_bytes: int
    server_cpu: float  # share of one core over the timed requests
    load: float | None

    def quantile(self, share: float) -> float:
        """The ``share`` quantile of the latencies (inclusive method), in seconds."""
        if len(self.seconds) == 1:
            return self.seconds[0]
        cuts = statistics.quantiles(self.seconds, n=100, method="inclusive")
        return cuts[round(share * 100) - 1]

    def summary(self) -> str:
        """``p50 12.3 ms, p90 .., p99 .. (N requests, server CPU 95%)``."""
        ms = [self.quantile(q) * 1000 for q in (0.5, 0.9, 0.99)]
        return (
            f"p50 {ms[0]:.1f} ms, p90 {ms[1]:.1f} ms, p99 {ms[2]:.1f} ms ({len(self.seconds)} requests, "
            f"{self.candles:,} candles / {self.body_bytes / MB:.2f} MB each, "
            f"server CPU {self.server_cpu:.0%})"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, latencies in ms."""
        return {
            "p50_ms": self.quantile(0.5) * 1000,
            "p90_ms": self.quantile(0.9) * 1000,
            "p99_ms": self.quantile(0.99) * 1000,
            "requests": len(self.seconds),
            "candles": self.candles,
            "body_bytes": self.body_bytes,
            "server_cpu": self.server_cpu,
            "load_average_1m": self.load,
            "latencies_ms": [round(s * 1000, 3) for s in self.seconds],
        }


def answer_of(server: Server, path: str) -> dict[str, Any]:
    """One range request, which must succeed; its JSON body."""
    answer = request(server.rest_port or 0, "GET", path, timeout=300)
    if answer.status != 200:
        raise RuntimeError(f"{server.name} {path}: {answer.status} {answer.body[:300]!r}")
    return dict(answer.json())


def time_requests(server: Server, path: str, count: int) -> Latencies:
    """``count`` sequential GETs of ``path`` (each must answer 200 with the same candle count)."""
    connection = KeepAlive(server.rest_port or 0, timeout=300)
    pids = server.child.tree()
    seconds: list[float] = []
    candles: set[int] = set()
    sizes: set[int] = set()
    load = load_now()
    try:
        cpu_before, began = cpu_seconds(pids), time.monotonic()
        for _ in range(count):
            started = time.perf_counter()
            answer = connection.get(path)
            seconds.append(time.perf_counter() - started)
            if answer.status != 200:
                raise RuntimeError(f"{server.name} {path}: {answer.status} {answer.body[:300]!r}")
            candles.add(int(answer.json()["count"]))
            sizes.add(len(answer.body))
        cpu = (cpu_seconds(pids) - cpu_before) / max(time.monotonic() - began, 1e-9)
    finally:
        connection.close()
    if len(candles) != 1:
        raise RuntimeError(f"{server.name} answered different candle counts: {sorted(candles)}")
    return Latencies(seconds, candles.pop(), max(sizes), cpu, load)


# -- exports ------------------------------------------------------------------------------------


@dataclass
class ExportRun:
    """One whole export read as fast as the client can: rows, time, the service's peak RSS
    (VmHWM, reset just before) and the CPU of the processes involved."""

    rows: int
    body_bytes: int
    seconds: float
    peak_rss_bytes: int
    rss_before_bytes: int
    cpu: dict[str, float]  # process -> share of one core over the export
    upstream_calls: int
    load: float | None
    tail: str = field(default="")

    @property
    def rows_per_second(self) -> float:
        """Rows streamed per second of wall time."""
        return self.rows / self.seconds

    def summary(self) -> str:
        """``81,180 rows/s, peak RSS 118.1 MB (service CPU 99%, ...)``."""
        cpu = ", ".join(f"{name} CPU {share:.0%}" for name, share in self.cpu.items())
        calls = f"; {self.upstream_calls} upstream calls" if self.upstream_calls else "; no upstream call"
        return (
            f"{self.rows_per_second:,.0f} rows/s ({self.seconds:.1f} s), peak RSS "
            f"{self.peak_rss_bytes / MB:.1f} MB ({cpu}{calls})"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "rows": self.rows,
            "body_bytes": self.body_bytes,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second),
            "peak_rss_bytes": self.peak_rss_bytes,
            "rss_before_bytes": self.rss_before_bytes,
            "cpu": {name: round(share, 3) for name, share in self.cpu.items()},
            "upstream_calls": self.upstream_calls,
            "load_average_1m": self.load,
        }


def reset_peak_rss(pid: int) -> None:
    """Start ``pid``'s VmHWM afresh from its current RSS (``clear_refs`` 5, Linux ≥ 4.0)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def export(lab: Lab, server: Server, path: str, header_rows: int, extra: dict[str, list[int]]) -> ExportRun:
    """Stream ``path`` to its end, counting lines; ``extra`` names more process trees whose CPU
    to measure alongside (the simulator, PostgreSQL)."""
    pid = server.child.pid
    time.sleep(0.2)  # let the previous request's garbage go before the peak is reset
    reset_peak_rss(pid)
    before_rss = rss_kib(pid) * 1024
    trees = {"service": server.child.tree(), **extra}
    cpu_before = {name: cpu_seconds(pids) for name, pids in trees.items()}
    calls_before = sum(lab.sim_calls().values())
    load = load_now()
    connection = http.client.HTTPConnection("127.0.0.1", server.rest_port or 0, timeout=300)
    lines = size = 0
    last = b""
    try:
        began = time.monotonic()
        connection.request("GET", path)
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"{server.name} {path}: {response.status} {response.read(300)!r}")
        while chunk := response.read(1 << 16):
            lines += chunk.count(b"\n")
            size += len(chunk)
            last = (last + chunk)[-512:]
        seconds = time.monotonic() - began
    finally:
        connection.close()
    cpu = {name: (cpu_seconds(pids) - cpu_before[name]) / seconds for name, pids in trees.items()}
    peak = rss_kib(pid, "VmHWM") * 1024
    calls = sum(lab.sim_calls().values()) - calls_before
    tail = last.decode(errors="replace").strip().splitlines()[-1] if last.strip() else ""
    return ExportRun(lines - header_rows, size, seconds, peak, before_rss, cpu, calls, load, tail)


# -- the store on disk --------------------------------------------------------------------------


@dataclass
class StoreSize:
    """Bytes a store takes for the candles it holds."""

    parts: dict[str, int]  # what -> bytes
    candles: int
    details: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Every part together."""
        return sum(self.parts.values())

    @property
    def per_candle(self) -> float | None:
        """Bytes per stored candle, everything included."""
        return self.total / self.candles if self.candles else None


def sqlite_size(path: Path) -> StoreSize:
    """The SQLite file, checkpointed (its -wal truncated into it) by a connection of our own
    once the service has closed it: file + -wal bytes, and the candles it holds."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        candles = int(connection.execute("SELECT count(*) FROM candles").fetchone()[0])
        pages = {name: int(connection.execute(f"PRAGMA {name}").fetchone()[0])
                 for name in ("page_size", "page_count", "freelist_count")}  # fmt: skip
        wal = path.with_name(path.name + "-wal")
        parts = {"file": path.stat().st_size, "wal": wal.stat().st_size if wal.exists() else 0}
    finally:
        connection.close()
    return StoreSize(parts, candles, pages)


def postgres_size(dsn: str) -> StoreSize:
    """``pg_total_relation_size`` (heap, indexes, TOAST) of ``candles`` and ``covered_spans``,
    and the candles stored."""

    async def query() -> StoreSize:
        import asyncpg  # the product's own driver

        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("CHECKPOINT")
            candles = int(await connection.fetchval("SELECT count(*) FROM candles"))
            parts = {
                table: int(await connection.fetchval("SELECT pg_total_relation_size($1::regclass)", table))
                for table in ("candles", "covered_spans")
            }
        finally:
            await connection.close()
        return StoreSize(parts, candles)

    return asyncio.run(query())


# -- upstream calls -----------------------------------------------------------------------------


def klines_requests(lab: Lab, pair: str, interval: str) -> list[dict[str, str]]:
    """The queries of every Binance klines request for ``pair`` and ``interval`` in the
    simulator's request log, oldest first."""
    log = request(lab.simulator.rest_port or 0, "GET", "/__sim/requests", timeout=60).json()
    return [
        dict(entry["query"])
        for entry in log
        if entry["provider"] == "binance"
        and entry["path"].rstrip("/").endswith("/klines")
        and entry["query"].get("symbol") == pair
        and entry["query"].get("interval") == interval
    ]


def process_tree(pid: int | None) -> list[int]:
    """``pid`` and its descendants (PostgreSQL's backends under its postmaster)."""
    return [] if pid is None else descendants(pid)
