"""History (issue 15): ranges served from the candle store, exports, bytes per stored candle and
the upstream calls of a fresh range, each store measured side by side in one run.

Services: CANDLE_STORE=sqlite (a file in the run's work directory), =postgres (a throwaway
server started as tests/postgres_server.py starts the test suite's; skipped when PostgreSQL is
not installed) and =off (the baseline: every range fetched upstream).
"""

from __future__ import annotations

import time
from typing import Any

from tests.benchmarks.history_support import (
    HOUR_MS,
    MB,
    MINUTE_MS,
    RAW_CANDLE_BYTES,
    ExportRun,
    Latencies,
    StoreSize,
    answer_of,
    closed_range,
    expected_pages,
    export,
    klines_requests,
    load_now,
    postgres_size,
    process_tree,
    sqlite_size,
    time_requests,
)
from tests.benchmarks.lab import Lab, Server
from tests.benchmarks.options import SYMBOLS, Options
from tests.benchmarks.report import Report, Row
from tests.postgres_server import PostgresServer, postgres_bindir

SQLITE, POSTGRES, OFF = "history-sqlite", "history-postgres", "history-off"
STORE_FILE = "history-candles.sqlite3"
RSS_TARGET = 150 * MB
#: The markets: ranges and exports of the first two, fresh-range call counts on the next two.
RANGED, EXPORTED_TOO, FRESH_PAST, FRESH_OPEN = SYMBOLS[0], SYMBOLS[1], SYMBOLS[2], SYMBOLS[3]


def history_services(lab: Lab, options: Options) -> None:
    """Start (not wait for) the services that need no PostgreSQL."""
    lab.spawn_service(SQLITE, CANDLE_STORE="sqlite", CANDLE_STORE_PATH=str(lab.workdir / STORE_FILE))
    lab.spawn_service(OFF, CANDLE_STORE="off")


def _start_postgres(lab: Lab) -> PostgresServer | None:
    bindir = postgres_bindir()
    if bindir is None:
        return None
    server = PostgresServer(bindir)
    server.start()
    if server.process is not None:  # checked for leftovers at the end like the suite's children
        lab.processes.seen_pids.add(server.process.pid)
    return server


def history(lab: Lab, options: Options, report: Report) -> None:
    """Every history figure; each part's rows are added as soon as it is measured."""
    history_services(lab, options)
    postgres = _start_postgres(lab)
    services: dict[str, Server] = {}
    try:
        services["sqlite"] = lab.wait_ready(lab.spawn_service(SQLITE))
        services["off"] = lab.wait_ready(lab.spawn_service(OFF))
        if postgres is not None:
            dsn = postgres.create_database("bench")
            services["postgres"] = lab.start_service(POSTGRES, CANDLE_STORE="postgres", DATABASE_URL=dsn)
        _upstream_calls(lab, services["sqlite"], options, report)
        _range_latency(lab, services, options, report)
        lab.stop(services.pop("off"))
        _exports(lab, services, postgres, options, report)
        sizes: dict[str, StoreSize] = {}
        if "postgres" in services and postgres is not None:
            sizes["postgres"] = postgres_size(postgres.dsn_for("bench"))
        lab.stop(services.pop("sqlite"))  # closing its store leaves the file checkpointed
        sizes["sqlite"] = sqlite_size(lab.workdir / STORE_FILE)
        _store_sizes(sizes, report)
    finally:
        for server in services.values():
            lab.stop(server)
        if postgres is not None:
            postgres.stop()


def _skipped(figure: str, why: str) -> Row:
    return Row("history", figure, why, "", None, "", None, status="skipped")


def _load_note(*loads: float | None) -> str:
    shown = ", ".join("?" if load is None else f"{load:.2f}" for load in loads)
    return f"load average (1 min) when measured: {shown}"


# -- 1. ranges from the store -------------------------------------------------------------------


def _range_latency(lab: Lab, services: dict[str, Server], options: Options, report: Report) -> None:
    """The same year of 1h candles from each store, after a first request stored it, and with
    CANDLE_STORE=off (fetched upstream by every request)."""
    hours = options.history_hours
    start, end = closed_range(hours, HOUR_MS)
    path = f"/api/ohlcv?symbol={RANGED}&interval=1h&start={start}&end={end}&limit=10000"
    measured: dict[str, Latencies] = {}
    fills: dict[str, dict[str, Any]] = {}
    for store in ("sqlite", "postgres", "off"):
        server = services.get(store)
        if server is None:
            continue
        before = len(klines_requests(lab, f"{RANGED}USDT", "1h"))
        began = time.perf_counter()
        first = answer_of(server, path)
        fills[store] = {
            "seconds": round(time.perf_counter() - began, 3),
            "upstream_klines_calls": len(klines_requests(lab, f"{RANGED}USDT", "1h")) - before,
            "candles": first["count"],
            "complete": first.get("complete"),
        }
        measured[store] = time_requests(server, path, options.history_requests)
    off = measured["off"]
    for store in ("sqlite", "postgres"):
        figure = (
            f"`GET /api/ohlcv?...&interval=1h&start&end&limit=10000`, {hours:,} stored candles: "
            f"CANDLE_STORE={store}"
        )
        if store not in measured:
            report.add(_skipped(figure, "PostgreSQL is not installed (initdb/postgres not found)"))
            continue
        ours = measured[store]
        report.add(
            Row(
                benchmark="history",
                figure=figure,
                measured=ours.summary(),
                baseline=f"CANDLE_STORE=off, {fills['off']['upstream_klines_calls']} upstream calls per "
                f"request: {off.summary()}",
                ratio=ours.quantile(0.5) / off.quantile(0.5),
                target="(no target; p50 from the store reported)",
                met=None,
                note=_load_note(ours.load, off.load)
                + f"; the first request stored the range in {fills[store]['seconds']:.2f} s "
                f"({fills[store]['upstream_klines_calls']} upstream calls)",
                details={"store": ours.as_dict(), "off": off.as_dict(), "first_requests": fills},
            )
        )


# -- 2. exports ---------------------------------------------------------------------------------


def _exports(
    lab: Lab, services: dict[str, Server], postgres: PostgresServer | None, options: Options, report: Report
) -> None:
    """Each export cold (nothing stored: fetched upstream as it streams) then warm (the same
    range again, from the store): CSV and NDJSON on SQLite (two markets, so each format has
    a cold run), CSV on PostgreSQL."""
    minutes = options.history_minutes
    start, end = closed_range(minutes, MINUTE_MS)
    runs: list[tuple[str, str, str]] = [("sqlite", "csv", RANGED), ("sqlite", "ndjson", EXPORTED_TOO)]
    runs.append(("postgres", "csv", RANGED))
    for store, fmt, symbol in runs:
        figure = (
            f"export {minutes:,} 1m candles (`/api/ohlcv/export`, {fmt.upper()}), CANDLE_STORE={store}: "
            "cold (fetched upstream as it streams)"
        )
        server = services.get(store)
        if server is None:
            report.add(_skipped(figure, "PostgreSQL is not installed (initdb/postgres not found)"))
            continue
        postmaster = postgres.process.pid if postgres is not None and postgres.process is not None else None
        path = f"/api/ohlcv/export?symbol={symbol}&interval=1m&start={start}&end={end}&format={fmt}"
        header = 1 if fmt == "csv" else 0
        runs_of = []
        for _ in ("cold", "warm"):
            trees = {"simulator": lab.simulator.child.tree()}
            if store == "postgres":
                trees["postgres"] = process_tree(postmaster)
            runs_of.append(export(lab, server, path, header, trees))
        cold, warm = runs_of
        report.add(_export_row(figure, minutes, cold, warm))


def _export_row(figure: str, minutes: int, cold: ExportRun, warm: ExportRun) -> Row:
    peak = max(cold.peak_rss_bytes, warm.peak_rss_bytes)
    wrong = [f"{name} streamed {run.rows:,} rows, last line {run.tail[:120]!r}"
             for name, run in (("cold", cold), ("warm", warm)) if run.rows != minutes]  # fmt: skip
    pages = expected_pages(minutes)
    notes = [_load_note(cold.load, warm.load)]
    if cold.upstream_calls != pages:
        notes.append(f"cold made {cold.upstream_calls} upstream calls where {pages} pages suffice")
    return Row(
        benchmark="history",
        figure=figure,
        measured=f"cold: {cold.summary()}",
        baseline=f"warm (the same range again, from the store): {warm.summary()}",
        ratio=cold.rows_per_second / warm.rows_per_second,
        target="peak RSS of the service < 150 MB",
        met=None if wrong else peak < RSS_TARGET,
        status="failed" if wrong else "ok",
        note="; ".join(wrong + notes),
        details={"cold": cold.as_dict(), "warm": warm.as_dict(), "pages_needed": pages},
    )


# -- 3. bytes per stored candle -----------------------------------------------------------------


def _store_sizes(sizes: dict[str, StoreSize], report: Report) -> None:
    for store in ("sqlite", "postgres"):
        figure = f"bytes per stored candle, CANDLE_STORE={store}"
        size = sizes.get(store)
        if size is None:
            report.add(_skipped(figure, "PostgreSQL is not installed (initdb/postgres not found)"))
            continue
        parts = " + ".join(f"{name} {value / MB:.1f} MB" for name, value in size.parts.items())
        how = (
            "file + -wal after a checkpoint (the service stopped first)"
            if store == "sqlite"
            else "pg_total_relation_size of candles + covered_spans (heap, primary-key index, TOAST)"
        )
        per = size.per_candle
        report.add(
            Row(
                benchmark="history",
                figure=figure,
                measured="n/a" if per is None else f"{per:.1f} bytes ({parts} for {size.candles:,} candles)",
                baseline=f"the candle's numbers alone: {RAW_CANDLE_BYTES} bytes "
                "(open time + OHLCV, 8 bytes each)",
                ratio=None if per is None else per / RAW_CANDLE_BYTES,
                target="(no target)",
                met=None,
                note=f"{how}; {_load_note(load_now())} (a size: load does not change it)",
                details={"parts": size.parts, "candles": size.candles, **size.details},
            )
        )


# -- 4. upstream calls for a fresh range --------------------------------------------------------


def _upstream_calls(lab: Lab, server: Server, options: Options, report: Report) -> None:
    """Binance klines calls (the simulator's request log) for a fresh range of 1h candles on
    the SQLite service, ending in the past and then reaching now (open-ended)."""
    hours = options.history_hours
    start, end = closed_range(hours, HOUR_MS)
    now_ms = int(time.time() * 1000)
    cases = (
        ("ending in the past", FRESH_PAST, f"&start={start}&end={end}"),
        (
            "up to now (no `end`: the newest part from the cached window)",
            FRESH_OPEN,
            f"&start={now_ms - hours * HOUR_MS}",
        ),
    )
    pages = expected_pages(hours)
    for label, symbol, span in cases:
        pair = f"{symbol}USDT"
        before = klines_requests(lab, pair, "1h")
        load = load_now()
        answer = answer_of(server, f"/api/ohlcv?symbol={symbol}&interval=1h{span}&limit=10000")
        calls = klines_requests(lab, pair, "1h")[len(before) :]
        shown = [{k: query[k] for k in ("startTime", "endTime", "limit") if k in query} for query in calls]
        windows = sum(1 for query in calls if "startTime" not in query)
        report.add(
            Row(
                benchmark="history",
                figure=f"upstream calls for a fresh range of {hours:,} 1h candles {label}",
                measured=f"{len(calls)} Binance klines calls ({windows} without startTime: the window; "
                f"{len(calls) - windows} range pages); {answer['count']:,} candles served, "
                f"complete {str(answer.get('complete')).lower()}",
                baseline=f"{hours:,} candles ÷ {1000} per Binance page = {pages} pages",
                ratio=float(len(calls)),
                target=f"exactly {pages} upstream calls",
                met=len(calls) == pages,
                note=_load_note(load),
                details={"calls": shown, "candles": answer["count"], "gaps": answer.get("gaps")},
            )
        )
