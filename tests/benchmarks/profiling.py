"""Where a cached request spends its time: profile one service process under load.

    python -m tests.benchmarks.profiling [--endpoint prices|ohlcv|indicators] [--backend memory|redis] [--seconds 8]
        [--profiler auto|py-spy|cprofile]

Starts the simulator and a service as the suite does (same settings), warms the cache, loads
the endpoint and samples the service with py-spy (``pip install py-spy``; a sampling profiler,
so the service runs at nearly full speed) or, without it, runs the service under cProfile
(slower, but needs nothing). Prints the functions with the most samples of their own and
the most samples including what they call, as shares of the process's time.
"""

from __future__ import annotations

import argparse
import collections
import pstats
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.lab import Lab, Server
from tests.benchmarks.loadgen import choose_tool
from tests.benchmarks.indicators import CANDLES, INDICATORS
from tests.benchmarks.options import ENDPOINTS
from tests.benchmarks.processes import ProcessSet

#: What ``--endpoint`` takes: the suite's endpoints, and the indicators benchmark's request
#: (1000 candles: limit 451 + warmup 549).
PATHS = {**ENDPOINTS, "indicators": f"/api/indicators?symbol=BTC&interval=1h&limit={CANDLES - 549}&indicators={INDICATORS}"}

_FRAME = re.compile(r"(?P<function>.*) \((?P<path>.*?):\d+\)$")


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if match is None:
        return frame
    path = match["path"]
    for root in ("site-packages/", "/lib/python3"):
        if root in path:
            path = path.split(root, 1)[1]
    return f"{match['function']} ({path.replace(str(Path.cwd()) + '/', '')})"


def summarize_collapsed(text: str, top: int) -> str:
    """Own and inclusive shares from py-spy's ``--format raw`` (collapsed stacks)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples, frames = int(count), [_short(frame) for frame in stack.split(";")]
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "own time:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "including callees:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top * 2)]
    return "\n".join(lines)


def _load(lab: Lab, service: Server, path: str, seconds: float, connections: int) -> str:
    result = lab.http(service, path, seconds, connections)
    return f"load: {result.summary()}, server CPU {result.server_cpu or 0:.0%}"


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.profiling", description=__doc__)
    parser.add_argument("--endpoint", choices=list(PATHS), default="prices")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--profiler", choices=("auto", "py-spy", "cprofile"), default="auto")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--backend", choices=("memory", "redis"), default="memory", help="CACHE_BACKEND")
    arguments = parser.parse_args()
    spy = shutil.which("py-spy")
    profiler = arguments.profiler if arguments.profiler != "auto" else ("py-spy" if spy else "cprofile")
    if profiler == "py-spy" and spy is None:
        raise SystemExit("py-spy is not installed: pip install py-spy, or --profiler cprofile")
    path = PATHS[arguments.endpoint]
    workdir = Path(tempfile.mkdtemp(prefix="cde-profile-"))
    try:
        _profile(arguments, profiler, spy, path, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _profile(arguments: argparse.Namespace, profiler: str, spy: str | None, path: str, workdir: Path) -> None:
    with ProcessSet(workdir) as processes:
        lab = Lab(processes, workdir, choose_tool("auto"))
        backend: dict[str, str] = {}
        if arguments.backend == "redis":
            binary = shutil.which("redis-server")
            if binary is None:
                raise SystemExit("redis-server is not installed")
            backend = {"CACHE_BACKEND": "redis", "REDIS_URL": lab.redis_url(binary)}
        stats = workdir / "service.pstats"
        service = lab.spawn_service(
            "service", 1, profile_to=stats if profiler == "cprofile" else None, **backend
        )
        service = lab.wait_ready(service)
        for _ in range(3):
            service.get(path)
        if profiler == "py-spy":
            assert spy is not None
            raw = workdir / "stacks.txt"
            argv = [
                spy,
                "record",
                "--pid",
                str(service.child.pid),
                "--rate",
                "250",
                "--gil",  # only the thread holding the GIL: where Python time goes
                "--format",
                "raw",
                "--duration",
                str(round(arguments.seconds) + 1),
                "-o",
                str(raw),
            ]
            sampler = processes.spawn("py-spy", argv)
            time.sleep(0.5)  # attached
            print(_load(lab, service, path, arguments.seconds, arguments.connections))
            sampler.process.wait(timeout=arguments.seconds + 30)
            print(summarize_collapsed(raw.read_text(), arguments.top))
        else:
            print(_load(lab, service, path, arguments.seconds, arguments.connections))
            service.child.process.send_signal(signal.SIGTERM)  # cProfile writes its file on exit
            service.child.process.wait(timeout=30)
            report = pstats.Stats(str(stats))
            report.sort_stats("tottime").print_stats(arguments.top)
            report.sort_stats("cumulative").print_stats(arguments.top)


if __name__ == "__main__":
    try:
        main()
    except subprocess.TimeoutExpired as error:
        sys.exit(f"profiling did not finish: {error}")
