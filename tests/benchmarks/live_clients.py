"""Driving the WebSocket client processes of the live benchmarks (``live_load``) from the suite:
start them, wait until every client holds its subscription, start the measurement in all of
them at once (SIGUSR1), collect and merge what they measured."""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from tests.benchmarks.lab import Lab, Server
from tests.benchmarks.latency import Histogram
from tests.benchmarks.processes import Child

Market = tuple[str, str]  # (symbol, interval)


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds * 1e3:.1f} ms"


@dataclass
class LiveResult:
    """What the clients of one measurement saw, merged over their processes."""

    clients: int
    seconds: float
    lag: Histogram = field(default_factory=Histogram)  # client read time - eventTime
    ingest: Histogram = field(default_factory=Histogram)  # service timestamp - eventTime
    fanout: Histogram = field(default_factory=Histogram)  # client read time - service timestamp
    updates: list[int] = field(default_factory=list)  # per client, while measured
    closes: dict[str, int] = field(default_factory=dict)
    failed_clients: int = 0
    client_cpu: float = 0.0  # cores, summed over the client processes
    client_cpu_max: float = 0.0  # the busiest client process, share of one core
    service_cpu: float | None = None  # cores, the watched service processes
    connect_seconds: float = 0.0

    def p(self, fraction: float, histogram: Histogram | None = None) -> float | None:
        """A percentile of the lag (or of ``histogram``), seconds."""
        return (histogram or self.lag).percentile(fraction)

    def lag_text(self) -> str:
        """``p50 1.2 ms, p99 3.4 ms over N updates``."""
        return f"p50 {_ms(self.p(0.5))}, p99 {_ms(self.p(0.99))} over {self.lag.count:,} updates"

    def split_text(self) -> str:
        """Where the lag was spent: upstream frame to the service's fan-out, fan-out to client."""
        ingest, fanout = self.ingest, self.fanout
        return (f"upstream→fan-out p50 {_ms(self.p(0.5, ingest))} / p99 {_ms(self.p(0.99, ingest))}, "
                f"fan-out→client p50 {_ms(self.p(0.5, fanout))} / p99 {_ms(self.p(0.99, fanout))}")

    @property
    def service_cpu_per_update(self) -> float | None:
        """Service CPU seconds per update delivered to a client (the window's CPU ÷ updates)."""
        if self.service_cpu is None or not self.lag.count:
            return None
        return self.service_cpu * self.seconds / self.lag.count

    def cpu_text(self) -> str:
        """Service and client CPU over the window."""
        service = "n/a" if self.service_cpu is None else f"{self.service_cpu:.0%}"
        per_update = self.service_cpu_per_update
        if per_update is not None:
            service += f" ≈ {per_update * 1e6:.0f} µs per update delivered, its idle work included"
        clients = f"client processes {self.client_cpu:.0%} (busiest {self.client_cpu_max:.0%})"
        return f"service CPU {service}, {clients}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, percentiles in milliseconds."""
        per_client = self.updates or [0]
        per_update = self.service_cpu_per_update
        return {
            "clients": self.clients,
            "seconds": self.seconds,
            "updates": self.lag.count,
            "lag_p50_ms": _scaled(self.p(0.5)),
            "lag_p99_ms": _scaled(self.p(0.99)),
            "lag_max_ms": _scaled(self.p(1.0)),
            "ingest_p50_ms": _scaled(self.p(0.5, self.ingest)),
            "ingest_p99_ms": _scaled(self.p(0.99, self.ingest)),
            "fanout_p50_ms": _scaled(self.p(0.5, self.fanout)),
            "fanout_p99_ms": _scaled(self.p(0.99, self.fanout)),
            "updates_per_client_min": min(per_client),
            "updates_per_client_max": max(per_client),
            "closes": self.closes,
            "failed_clients": self.failed_clients,
            "client_cpu": self.client_cpu,
            "client_cpu_busiest_process": self.client_cpu_max,
            "service_cpu": self.service_cpu,
            "service_cpu_us_per_update": _scaled(None if per_update is None else per_update * 1e3),
            "connect_seconds": self.connect_seconds,
        }


def _scaled(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1e3, 3)


class LiveLoad:
    """``clients`` WebSocket clients of ``server``'s ``/ws`` in ``processes`` client processes,
    client ``i`` on market ``(first_client + i) mod len(markets)``; the CPU of ``watch`` (default:
    the server's processes) is measured over the window. Use as a context manager: the processes
    always end."""

    def __init__(self, lab: Lab, server: Server, clients: int, markets: Sequence[Market], processes: int,
                 duration: float, name: str = "live-load", watch: Sequence[int] | None = None,
                 first_client: int = 0) -> None:  # fmt: skip
        self._lab = lab
        self.clients = clients
        self.duration = duration
        count = max(1, min(processes, clients))
        shares = [clients // count + (1 if i < clients % count else 0) for i in range(count)]
        pids = list(watch) if watch is not None else server.child.tree()
        url = f"ws://127.0.0.1:{server.rest_port}/ws"
        self._children: list[Child] = []
        for index, share in enumerate(shares):
            # each process starts at its own offset in the markets, so together they cover them evenly
            offset = (first_client + sum(shares[:index])) % len(markets)
            ordered = list(markets[offset:]) + list(markets[:offset])
            argv = [sys.executable, "-m", "tests.benchmarks.live_load", "--url", url, "--clients", str(share),
                    "--markets", ",".join(f"{s}:{i}" for s, i in ordered), "--duration", str(duration),
                    "--watch", ",".join(map(str, pids))]  # fmt: skip
            self._children.append(lab.processes.spawn(f"{name}-{index}", argv, stdout_pipe=True))
        self._ready: list[dict[str, Any]] = []

    def wait_ready(self, timeout: float = 120) -> float:
        """Until every client holds its subscription and has its snapshot; the seconds it took
        the slowest process to get there."""
        deadline = time.monotonic() + timeout
        for child in self._children:
            stdout = child.process.stdout
            assert stdout is not None
            left = deadline - time.monotonic()
            readable, _, _ = select.select([stdout], [], [], max(0.0, left))
            line = stdout.readline() if readable else b""
            if not line:
                state = "exited" if child.process.poll() is not None else f"not ready after {timeout:g} s"
                raise RuntimeError(f"{child.name} {state}:\n{child.log_tail(8)}")
            self._ready.append(json.loads(line))
        return max(float(ready["connect_seconds"]) for ready in self._ready)

    def start(self) -> None:
        """Start the measurement in every process (SIGUSR1)."""
        for child in self._children:
            os.kill(child.pid, signal.SIGUSR1)

    def measure(self) -> LiveResult:
        """Start the measurement in every process at once and merge what they report."""
        self.start()
        return self.collect()

    def collect(self) -> LiveResult:
        """Wait for the end of the measurement; what every process reported, merged."""
        result = LiveResult(self.clients, self.duration)
        service_cpu = []
        for child in self._children:
            out, _ = child.process.communicate(timeout=self.duration + 60)
            if child.process.returncode != 0:
                raise RuntimeError(f"{child.name} failed ({child.process.returncode}):\n{child.log_tail(8)}")
            raw = json.loads(out.splitlines()[-1])
            for name in ("lag", "ingest", "fanout"):
                getattr(result, name).merge(Histogram.from_json(raw[name]))
            result.updates.extend(raw["updates_per_client"])
            for code, count in raw["closes"].items():
                result.closes[code] = result.closes.get(code, 0) + count
            result.failed_clients += int(raw["failed_clients"])
            cpu = float(raw["client_cpu"] or 0.0)
            result.client_cpu += cpu
            result.client_cpu_max = max(result.client_cpu_max, cpu)
            if raw["watched_cpu"] is not None:
                service_cpu.append(float(raw["watched_cpu"]))
            result.connect_seconds = max(result.connect_seconds, float(raw["connect_seconds"]))
        result.service_cpu = sum(service_cpu) / len(service_cpu) if service_cpu else None
        return result

    def close(self) -> None:
        """Stop every client process still running (their connections close with them)."""
        for child in self._children:
            self._lab.processes.stop(child, grace=2)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def measure_clients(lab: Lab, server: Server, clients: int, markets: Sequence[Market], processes: int,
                    duration: float, settle: float, name: str = "live-load") -> LiveResult:  # fmt: skip
    """Connect ``clients``, let them settle for ``settle`` seconds, measure ``duration`` seconds."""
    with LiveLoad(lab, server, clients, markets, processes, duration, name) as load:
        load.wait_ready()
        time.sleep(settle)
        return load.measure()
