"""The benchmark suite: ``python -m tests.benchmarks`` from the repository root.

Starts the upstream simulator, the service and the baselines as separate processes on
127.0.0.1, loads them with wrk (or the Python load generator when wrk is missing) and writes
``results.md`` and ``results.json``. Targets are read from the output, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import shutil
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from tests.benchmarks.benchmarks import BENCHMARKS, NOTES, SERVICES, Options
from tests.benchmarks.lab import BASE_SETTINGS, Lab
from tests.benchmarks.loadgen import choose_tool, tool_version
from tests.benchmarks.machine import describe, load_average
from tests.benchmarks.processes import REPO_ROOT, ProcessSet
from tests.benchmarks.report import Report, Row

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement (default 10)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds of discarded load before each "
        "measurement (default: duration/5, at most 2; 0 with --smoke)",
    )
    parser.add_argument("--connections", type=int, default=64, help="HTTP connections (default 64)")
    parser.add_argument("--grpc-concurrency", type=int, default=64, help="gRPC calls in flight (default 64)")
    parser.add_argument("--grpc-clients", type=int, default=1, help="gRPC client processes (default 1)")
    parser.add_argument("--burst", type=int, default=500, help="concurrent cold requests (default 500)")
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=2.0,
        help="REQUEST_TIMEOUT of the failover services, seconds (default 2)",
    )
    parser.add_argument(
        "--failover-keys", type=int, default=50, help="distinct keys in failover (default 50)"
    )
    parser.add_argument("--workers", type=int, default=2, help="workers compared with one (default 2)")
    parser.add_argument(
        "--memory-symbols",
        type=int,
        default=14,
        choices=range(1, 15),
        metavar="N",
        help="fill the cache for the first N supported symbols (default all 14)",
    )
    parser.add_argument(
        "--live-clients",
        type=int,
        nargs="+",
        default=[1, 100, 1000],
        metavar="N",
        help="WebSocket clients of each live_lag measurement (default 1 100 1000)",
    )
    parser.add_argument(
        "--live-idle-clients", type=int, default=1000, help="idle WebSocket clients (default 1000)"
    )
    parser.add_argument(
        "--live-upstream-clients",
        type=int,
        default=1000,
        help="WebSocket clients over both replicas in live_upstream (default 1000)",
    )
    parser.add_argument(
        "--live-load-processes", type=int, default=2, help="WebSocket client processes (default 2)"
    )
    parser.add_argument(
        "--live-compare-code",
        metavar="DIR",
        default=None,
        help="live_lag also measures a service run from this checkout (e.g. before a change)",
    )
    parser.add_argument(
        "--stream-cadence",
        type=float,
        default=1.0,
        help="seconds between the simulator's live frames per stream (default 1; 0.25 with --smoke)",
    )
    parser.add_argument(
        "--history-hours", type=int, default=8760, help="1h candles of the stored range (default 8760)"
    )
    parser.add_argument(
        "--history-minutes", type=int, default=525_600, help="1m candles of each export (default 525600)"
    )
    parser.add_argument(
        "--history-requests", type=int, default=30, help="timed range requests per store (default 30)"
    )
    parser.add_argument(
        "--prestart",
        action="store_true",
        help="start every service the selected benchmarks use at once, up front (quicker)",
    )
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="HTTP load generator (default: wrk when installed)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(BENCHMARKS),
        metavar="NAME",
        help=f"run only these benchmarks: {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--name", default="results", help="file stem: NAME.md and NAME.json (default results)"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="checks the suite runs, in about half a minute: 1 s measurements, no warm-up, "
        "10 failover keys with a 0.5 s timeout, one symbol's cache, 1 and 20 live clients, "
        "history over 48 hours and 3000 minutes with 3 timed requests, services prestarted",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs (path printed)")
    arguments = parser.parse_args(argv)
    if arguments.smoke:
        arguments.duration = 1.0
        arguments.warmup = 0.0
        arguments.request_timeout = min(arguments.request_timeout, 0.5)
        arguments.failover_keys = min(arguments.failover_keys, 10)
        arguments.memory_symbols = 1
        arguments.live_clients = [1, 20]
        arguments.live_idle_clients = min(arguments.live_idle_clients, 20)
        arguments.live_upstream_clients = min(arguments.live_upstream_clients, 20)
        arguments.stream_cadence = min(arguments.stream_cadence, 0.25)
        arguments.history_hours = min(arguments.history_hours, 48)
        arguments.history_minutes = min(arguments.history_minutes, 3000)
        arguments.history_requests = min(arguments.history_requests, 3)
        arguments.prestart = True
    if arguments.warmup is None:
        arguments.warmup = min(2.0, arguments.duration / 5)
    return arguments


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so every ``finally`` (process cleanup) runs."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _code_version() -> str:
    """The commit measured, and how many files differ from it (the tree may be mid-change)."""

    def git(*args: str) -> str:
        run = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return run.stdout.strip() if run.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown (not a git checkout)"
    changed = [line for line in git("status", "--porcelain").splitlines() if "tests/benchmarks" not in line]
    return f"{commit}" + (f" + {len(changed)} uncommitted change(s)" if changed else "")


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def run(argv: list[str] | None = None) -> int:
    """Run the suite; 0 when every selected benchmark produced its figures, 1 otherwise."""
    arguments = _arguments(argv)
    tool = choose_tool(arguments.loadgen)
    machine = describe(tool_version(tool))
    options = Options(
        duration=arguments.duration,
        warmup=arguments.warmup,
        connections=arguments.connections,
        grpc_concurrency=arguments.grpc_concurrency,
        grpc_clients=arguments.grpc_clients,
        burst=arguments.burst,
        request_timeout=arguments.request_timeout,
        failover_keys=arguments.failover_keys,
        workers=arguments.workers,
        memory_symbols=arguments.memory_symbols,
        live_clients=tuple(arguments.live_clients),
        live_idle_clients=arguments.live_idle_clients,
        live_upstream_clients=arguments.live_upstream_clients,
        live_load_processes=arguments.live_load_processes,
        live_compare_code=arguments.live_compare_code,
        history_hours=arguments.history_hours,
        history_minutes=arguments.history_minutes,
        history_requests=arguments.history_requests,
    )
    selected = arguments.only or list(BENCHMARKS)
    settings = {name: {"value": value, "why": why} for name, (value, why) in BASE_SETTINGS.items()}
    settings.update(
        {
            "REQUEST_TIMEOUT (failover only)": {
                "value": f"{options.request_timeout:g}",
                "why": "the first requests wait it out once each; the default 10 s would make the run long",
            },
            "UPSTREAM_BUDGET_KRAKEN (failover only)": {
                "value": "100000/minute",
                "why": "Kraken answers 50 cold keys in seconds; the ~1 call/s default budget would refuse them",
            },
            "OHLCV_PROVIDERS (failover baseline only)": {
                "value": "kraken",
                "why": "the Kraken-only baseline",
            },
            "CACHE_BACKEND / REDIS_URL (redis only)": {
                "value": "redis / the suite's redis-server",
                "why": "the backend under test",
            },
            "CACHE_BACKEND / REDIS_URL (live_upstream only)": {
                "value": "redis / the suite's redis-server",
                "why": "two replicas share the stream lease and the event bus",
            },
            "simulator --stream-cadence": {
                "value": f"{arguments.stream_cadence:g}",
                "why": "seconds between the live frames of each subscribed stream (Binance: 1-2 s per kline)",
            },
        }
    )
    command = "python -m tests.benchmarks " + shlex.join(argv if argv is not None else sys.argv[1:])
    report = Report(
        machine=machine,
        config={
            "command": command.strip(),
            "code": _code_version(),
            "benchmarks": selected,
            **asdict(options),
            "loadgen": tool,
        },
        settings=settings,
        notes={name: NOTES[name] for name in selected},
        started=_now(),
    )
    began = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="cde-bench-"))
    failed = False
    print(f"machine: {machine['cpu']}, {machine['usable_cores']} cores, load generator {tool}", flush=True)
    with _terminate_as_interrupt(), ProcessSet(workdir) as processes:
        lab = Lab(processes, workdir, tool)
        lab.stream_cadence = arguments.stream_cadence
        try:
            if arguments.prestart:
                for name in selected:
                    for spawn in SERVICES[name]:
                        spawn(lab, options)
            for name in selected:
                print(f"[{time.monotonic() - began:6.1f} s] {name} ...", flush=True)
                rows_before = len(report.rows)
                try:
                    BENCHMARKS[name](lab, options, report)
                except Exception as error:  # noqa: BLE001 - one broken benchmark must not hide the others
                    failed = True
                    traceback.print_exc()
                    report.add(
                        Row(
                            name,
                            "(benchmark failed)",
                            f"{type(error).__name__}: {error}"[:500],
                            "",
                            None,
                            "",
                            None,
                            status="failed",
                            details={"traceback": traceback.format_exc()},
                        )
                    )
                for row in report.rows[rows_before:]:
                    ratio = "" if row.ratio is None else f" [ratio {row.ratio:.2f}]"
                    print(f"    {row.figure}: {row.measured} | {row.baseline}{ratio}", flush=True)
        except KeyboardInterrupt:
            failed = True
            print("interrupted: stopping every process", file=sys.stderr, flush=True)
        finally:
            processes.close()
            leftovers = processes.leftovers()
            report.machine["load_average_at_end"] = load_average()
            report.finished = _now()
            report.wall_seconds = time.monotonic() - began
            report.config["spawned_pids"] = sorted(processes.seen_pids)
            report.config["leftover_pids"] = leftovers
            markdown, data = report.write(arguments.out, arguments.name)
            print(f"wrote {markdown} and {data} ({report.wall_seconds:.0f} s)", flush=True)
            if leftovers:
                print(f"processes still alive after cleanup: {leftovers}", file=sys.stderr)
                failed = True
    if arguments.keep_logs:
        print(f"process logs kept in {workdir}")
    else:
        shutil.rmtree(workdir)  # the served processes' files, and their candle store's ./data
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run())
