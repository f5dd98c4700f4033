"""Driving load from other processes: wrk when installed (``--latency`` for percentiles),
else the Python HTTP load generator; the grpc.aio load client for gRPC. Each run also
measures the CPU the server under test used, so a reader can tell whether the server or the
load generator was the bottleneck."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tests.benchmarks.latency import Histogram
from tests.benchmarks.processes import REPO_ROOT, ProcessSet, cpu_seconds

WRK = shutil.which("wrk")


@dataclass
class LoadResult:
    """One measured load run against one server."""

    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int = 0  # socket errors, non-2xx answers, failed RPCs
    server_cpu: float | None = None  # CPU seconds the server used per wall second (1.0 = one core)
    connections: int = 0
    threads: int = 1
    statuses: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """``1234 req/s, p50 1.2 ms, p99 3.4 ms``, and the errors if any."""
        text = f"{self.rps:,.0f} req/s, p50 {_ms(self.p50_ms)}, p99 {_ms(self.p99_ms)}"
        if self.errors:
            text += f", {self.errors} errors"
        return text

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def _ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def choose_tool(preference: str) -> str:
    """``wrk`` or ``python``: wrk when asked for or when ``auto`` finds it installed."""
    if preference == "wrk" and WRK is None:
        raise SystemExit("--loadgen wrk: wrk is not installed")
    if preference == "auto":
        return "wrk" if WRK is not None else "python"
    return preference


def tool_version(tool: str) -> str:
    """A one-line description of the load generator."""
    if tool != "wrk" or WRK is None:
        return f"python asyncio load generator (Python {sys.version.split()[0]})"
    run = subprocess.run([WRK, "--version"], capture_output=True, text=True, check=False)
    first = (run.stdout or run.stderr).splitlines()[:1]
    return first[0].split(" Copyright")[0].strip() if first else "wrk"


def measure_cpu(pids: Sequence[int], run: Callable[[], LoadResult]) -> LoadResult:
    """Run ``run`` and fill in the server's CPU use over it, unless the load processes
    measured it over their own load window (the Python ones: their start-up is not load)."""
    before, started = cpu_seconds(pids), time.monotonic()
    result = run()
    wall = time.monotonic() - started
    if result.server_cpu is None:
        result.server_cpu = (cpu_seconds(pids) - before) / wall if wall > 0 else None
    return result


# -- HTTP ------------------------------------------------------------------------------


def http_load(
    processes: ProcessSet,
    tool: str,
    url: str,
    duration: float,
    connections: int,
    threads: int = 1,
    watch: Sequence[int] = (),
) -> LoadResult:
    """Keep-alive load on ``url`` from ``connections`` connections for ``duration`` seconds;
    ``watch``: the server's pids, for its CPU use."""
    if tool == "wrk":
        return _wrk(url, duration, connections, threads)
    return _python_http(processes, url, duration, connections, threads, watch)


def _wrk(url: str, duration: float, connections: int, threads: int) -> LoadResult:
    assert WRK is not None
    seconds = max(1, round(duration))
    threads = max(1, min(threads, connections))
    argv = [WRK, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", url]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"wrk failed ({run.returncode}): {run.stderr or run.stdout}")
    return parse_wrk(run.stdout, connections, threads)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str, connections: int = 0, threads: int = 1) -> LoadResult:
    """Requests/sec, the 50% and 99% latencies and the errors from ``wrk --latency`` output."""
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if total is None or rate is None:
        raise ValueError(f"unexpected wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return LoadResult(
        tool="wrk",
        requests=int(total.group(1)),
        seconds=_to_ms(total.group(2) + total.group(3)) / 1e3,
        rps=float(rate.group(1)),
        p50_ms=_to_ms(percentiles["50"]) if "50" in percentiles else None,
        p99_ms=_to_ms(percentiles["99"]) if "99" in percentiles else None,
        errors=errors,
        connections=connections,
        threads=threads,
    )


def _python_http(
    processes: ProcessSet, url: str, duration: float, connections: int, threads: int, watch: Sequence[int]
) -> LoadResult:
    count = max(1, min(threads, connections))
    shares = [connections // count + (1 if i < connections % count else 0) for i in range(count)]
    argvs = [
        [
            sys.executable,
            "-m",
            "tests.benchmarks.http_load",
            "load",
            "--url",
            url,
            "--duration",
            str(duration),
            "--connections",
            str(share),
            "--watch",
            ",".join(map(str, watch)),
        ]
        for share in shares
    ]
    return _merge("python", run_processes(processes, "http-load", argvs, duration), connections, count)


# -- gRPC ------------------------------------------------------------------------------


def grpc_load(
    processes: ProcessSet,
    target: str,
    method: str,
    request: bytes,
    duration: float,
    concurrency: int,
    clients: int,
    watch: Sequence[int] = (),
) -> LoadResult:
    """``concurrency`` unary calls in flight, spread over ``clients`` client processes."""
    clients = max(1, min(clients, concurrency))
    shares = [concurrency // clients + (1 if i < concurrency % clients else 0) for i in range(clients)]
    argvs = [
        [
            sys.executable,
            "-m",
            "tests.benchmarks.grpc_load",
            "load",
            "--target",
            target,
            "--method",
            method,
            "--request",
            request.hex(),
            "--duration",
            str(duration),
            "--concurrency",
            str(share),
            "--watch",
            ",".join(map(str, watch)),
        ]
        for share in shares
    ]
    return _merge("grpc.aio", run_processes(processes, "grpc-load", argvs, duration), concurrency, clients)


def grpc_capture(processes: ProcessSet, target: str, calls: dict[str, tuple[bytes, str]]) -> None:
    """For each method: call it twice and write the (cached) serialized answer to its file."""
    argv = [sys.executable, "-m", "tests.benchmarks.grpc_load", "capture", "--target", target]
    for method, (request, out) in calls.items():
        argv += ["--call", method, request.hex(), out]
    run_processes(processes, "grpc-capture", [argv], 0)


# -- plumbing --------------------------------------------------------------------------


def run_processes(
    processes: ProcessSet, name: str, argvs: list[list[str]], duration: float
) -> list[dict[str, Any]]:
    """Run load processes side by side; each prints one JSON object, returned in order."""
    children = [
        processes.spawn(f"{name}-{i}", argv, cwd=REPO_ROOT, stdout_pipe=True) for i, argv in enumerate(argvs)
    ]
    results = []
    try:
        for child in children:
            assert child.process.stdout is not None
            out, _ = child.process.communicate(timeout=duration + 60)
            if child.process.returncode != 0:
                raise RuntimeError(f"{name} failed ({child.process.returncode}):\n{child.log_tail()}")
            results.append(json.loads(out))
    finally:
        for child in children:
            processes.stop(child, grace=1)
    return results


def _merge(tool: str, results: list[dict[str, Any]], connections: int, threads: int) -> LoadResult:
    histogram = Histogram()
    statuses: dict[str, int] = {}
    errors = 0
    for result in results:
        histogram.merge(Histogram.from_json(result["histogram"]))
        errors += int(result["errors"])
        for status, count in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    errors += sum(count for status, count in statuses.items() if not _ok(status))
    seconds = max(float(result["elapsed"]) for result in results)
    p50, p99 = histogram.percentile(0.50), histogram.percentile(0.99)
    watched = [float(result["watched_cpu"]) for result in results if result.get("watched_cpu") is not None]
    return LoadResult(
        server_cpu=sum(watched) / len(watched) if watched else None,
        tool=tool,
        requests=histogram.count,
        seconds=seconds,
        rps=histogram.count / seconds if seconds > 0 else math.nan,
        p50_ms=None if p50 is None else p50 * 1e3,
        p99_ms=None if p99 is None else p99 * 1e3,
        errors=errors,
        connections=connections,
        threads=threads,
        statuses=statuses,
    )


def _ok(status: str) -> bool:
    return status == "OK" or (status.isdigit() and 200 <= int(status) < 400)
