"""Live streams: delivery lag to 1, 100 and 1000 WebSocket clients (``live_lag``), memory per
idle WebSocket client (``live_memory``), upstream connections of two replicas sharing Redis
(``live_upstream``). The simulator pushes the upstream frames (``--stream-cadence``)."""

from __future__ import annotations

import shutil
import time
from typing import Any

from tests.benchmarks.lab import Lab, Server
from tests.benchmarks.live_clients import LiveLoad, LiveResult, measure_clients
from tests.benchmarks.options import LIVE_MARKETS, Options
from tests.benchmarks.processes import rss_kib
from tests.benchmarks.report import Report, Row

LAG_TARGET = 0.050  # seconds: p99 at 1000 clients
TARGET_CLIENTS = 1000
MB = 1_000_000
_WHERE = (
    f"{len(LIVE_MARKETS)} markets (client i on market i mod {len(LIVE_MARKETS)}), "
    "one candles subscription each"
)


def _markets_text() -> str:
    symbols = sorted({symbol for symbol, _ in LIVE_MARKETS}, key=[s for s, _ in LIVE_MARKETS].index)
    intervals = sorted({interval for _, interval in LIVE_MARKETS})
    return f"{','.join(symbols)} × {','.join(intervals)}"


# -- live_lag ------------------------------------------------------------------------------


def live_lag_services(lab: Lab, options: Options) -> list[Server]:
    services = [lab.spawn_service("service-live")]
    if options.live_compare_code:
        services.append(lab.spawn_service("service-live-compared", PYTHONPATH=options.live_compare_code))
    return services


def _lag_row(clients: int, result: LiveResult, baseline: str, details: dict[str, Any]) -> Row:
    p99 = result.p(0.99)
    judged = clients >= TARGET_CLIENTS
    lost = sum(result.closes.values()) + result.failed_clients
    return Row(
        benchmark="live_lag",
        figure=f"delivery lag upstream frame → client frame, {clients:,} WebSocket client(s) on one worker",
        measured=f"{result.lag_text()}; {result.split_text()}; {result.cpu_text()}"
        + (f"; {lost} client(s) lost: closes {result.closes}" if lost else ""),
        baseline=baseline,
        ratio=None if p99 is None or not judged else p99 / LAG_TARGET,
        target=f"p99 < {LAG_TARGET * 1e3:.0f} ms at {TARGET_CLIENTS:,} clients" if judged else "(none here)",
        met=(p99 is not None and p99 < LAG_TARGET and not lost) if judged else None,
        note="" if result.lag.count >= 100 else f"{result.lag.count} updates only: p99 = the worst of them",
        details=details,
    )


def live_lag(lab: Lab, options: Options, report: Report) -> None:
    """Lag from the simulator's send time (``eventTime``) to the client's read, per client count."""
    services = [lab.wait_ready(service) for service in live_lag_services(lab, options)]
    service, compared = services[0], services[1] if len(services) > 1 else None
    try:
        for index, clients in enumerate(options.live_clients):
            runs: dict[str, LiveResult] = {}
            order = [("this checkout", service)] + ([("compared", compared)] if compared else [])
            if index % 2:
                order.reverse()  # alternate which goes first
            for label, server in order:
                runs[label] = measure_clients(
                    lab, server, clients, LIVE_MARKETS, options.live_load_processes,
                    options.duration, options.warmup, f"live-lag-{clients}",
                )  # fmt: skip
            result = runs["this checkout"]
            details: dict[str, Any] = {"markets": LIVE_MARKETS, **result.as_dict()}
            if compared is not None:
                other = runs["compared"]
                details["compared"] = {"code": options.live_compare_code, **other.as_dict()}
                baseline = (f"service run from {options.live_compare_code}, same load right "
                            f"{'after' if order[0][0] == 'this checkout' else 'before'}: {other.lag_text()}; "
                            f"{other.split_text()}; {other.cpu_text()}")  # fmt: skip
            else:
                baseline = _WHERE + f" ({_markets_text()})"
            report.add(_lag_row(clients, result, baseline, details))
    finally:
        for server in services:
            lab.stop(server)


# -- live_memory ---------------------------------------------------------------------------


def live_memory_service(lab: Lab, options: Options) -> list[Server]:
    services = [lab.spawn_service("service-live-memory")]
    if options.live_compare_code:
        compared = lab.spawn_service("service-live-memory-compared", PYTHONPATH=options.live_compare_code)
        services.append(compared)
    return services


def _rss_per_client(lab: Lab, service: Server, options: Options) -> dict[str, Any]:
    """RSS with no client (every stream already open and its state held), then with the idle
    clients, each holding one candles subscription, then once they left."""
    clients = options.live_idle_clients
    pid = service.child.pid
    # one client per market first, then gone: the streams, their state and their topics exist
    measure_clients(lab, service, len(LIVE_MARKETS), LIVE_MARKETS, 1, 0.0, 0.0, "live-memory-warm")
    time.sleep(1.0)
    idle = rss_kib(pid) * 1024
    with LiveLoad(lab, service, clients, LIVE_MARKETS, options.live_load_processes, 0.0,
                  "live-memory") as load:  # fmt: skip
        connect_seconds = load.wait_ready()
        time.sleep(max(1.0, options.warmup))
        held = rss_kib(pid) * 1024
        peak = rss_kib(pid, "VmHWM") * 1024
        result = load.measure()
    time.sleep(1.0)
    return {
        "rss_no_client_bytes": idle,
        "rss_with_clients_bytes": held,
        "rss_peak_bytes": peak,
        "rss_after_close_bytes": rss_kib(pid) * 1024,
        "clients": clients,
        "bytes_per_client": (held - idle) / clients,
        "connect_seconds": connect_seconds,
        "closes": result.closes,
    }


def _memory_text(figures: dict[str, Any]) -> str:
    return (f"{figures['bytes_per_client'] / 1000:.1f} kB per client: RSS "
            f"{figures['rss_with_clients_bytes'] / MB:.1f} MB with {figures['clients']:,} clients "
            f"(peak {figures['rss_peak_bytes'] / MB:.1f} MB)")  # fmt: skip


def live_memory(lab: Lab, options: Options, report: Report) -> None:
    """RSS per idle WebSocket client (and, with --live-compare-code, the same for that code)."""
    services = [lab.wait_ready(service) for service in live_memory_service(lab, options)]
    try:
        figures = [_rss_per_client(lab, service, options) for service in services]
    finally:
        for service in services:
            lab.stop(service)
    measured = figures[0]
    idle, after = measured["rss_no_client_bytes"], measured["rss_after_close_bytes"]
    baseline = f"same process, streams open, no client: {idle / MB:.1f} MB; {after / MB:.1f} MB once gone"
    details: dict[str, Any] = dict(measured)
    if len(figures) > 1:
        compared = f"service run from {options.live_compare_code}, right after: {_memory_text(figures[1])}"
        baseline = f"{compared}; {baseline}"
        details["compared"] = {"code": options.live_compare_code, **figures[1]}
    report.add(
        Row(
            benchmark="live_memory",
            figure=f"service RSS per idle WebSocket client ({measured['clients']:,} clients, one candles "
            "subscription each)",
            measured=_memory_text(measured),
            baseline=baseline,
            ratio=measured["rss_with_clients_bytes"] / idle,
            target="(no target: bounded and linear)",
            met=None,
            details=details,
        )
    )


# -- live_upstream -------------------------------------------------------------------------

_REPLICAS = ("service-live-replica-a", "service-live-replica-b")


def live_upstream_services(lab: Lab, options: Options) -> list[Server] | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    url = lab.redis_url(binary)
    return [lab.spawn_service(name, CACHE_BACKEND="redis", REDIS_URL=url) for name in _REPLICAS]


def _opened(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        provider: {
            "opened": after[provider]["opened"] - before.get(provider, {}).get("opened", 0),
            "open": after[provider]["open"] - before.get(provider, {}).get("open", 0),
            "subscriptions": after[provider]["subscriptions"],
        }
        for provider in after
    }


def live_upstream(lab: Lab, options: Options, report: Report) -> None:
    """N clients over 20 markets, half on each of two replicas sharing Redis: upstream
    connections the simulator accepted meanwhile."""
    spawned = live_upstream_services(lab, options)
    target = "1 upstream connection"
    if spawned is None:
        report.add(Row("live_upstream", "upstream connections, 2 replicas", "redis-server is not installed",
                       "", None, target, None, status="skipped"))  # fmt: skip
        return
    replicas = [lab.wait_ready(server) for server in spawned]
    clients = options.live_upstream_clients
    shares = [clients // 2 + clients % 2, clients // 2]
    try:
        before = lab.sim_streams()
        loads = [LiveLoad(lab, server, share, LIVE_MARKETS, max(1, options.live_load_processes // 2),
                          options.duration, f"live-upstream-{index}", first_client=sum(shares[:index]))
                 for index, (server, share) in enumerate(zip(replicas, shares, strict=True))]  # fmt: skip
        try:
            for load in loads:
                load.wait_ready()
            time.sleep(options.warmup)
            for load in loads:
                load.start()
            results = [load.collect() for load in loads]
        finally:
            for load in loads:
                load.close()
        time.sleep(0.2)
        counts = _opened(before, lab.sim_streams())
        health = [server.get("/api/health").json().get("streams", []) for server in replicas]
    finally:
        for server in replicas:
            lab.stop(server)
    opened = sum(entry["opened"] for entry in counts.values())
    open_now = sum(entry["open"] for entry in counts.values())
    streams = sorted({name for entry in counts.values() for name in entry["subscriptions"]})
    per_provider = ", ".join(f"{name} {entry['opened']}" for name, entry in counts.items())
    details = {"upstream": counts, "replica_health_streams": health,
               "replicas": [result.as_dict() for result in results]}  # fmt: skip
    report.add(
        Row(
            benchmark="live_upstream",
            figure=f"upstream connections for {clients:,} WebSocket clients watching {len(LIVE_MARKETS)} "
            "markets across 2 replicas (CACHE_BACKEND=redis)",
            measured=f"{opened} opened during the run ({per_provider}); {open_now} open at the end, "
            f"carrying {len(streams)} streams",
            baseline=f"{len(replicas)} replicas, {shares[0]:,} + {shares[1]:,} clients, "
            f"{len(LIVE_MARKETS)} markets",
            ratio=float(opened),
            target=target,
            met=opened == 1 and open_now == 1,
            details=details,
        )
    )
    starved = [min(result.updates or [0]) for result in results]
    report.add(
        Row(
            benchmark="live_upstream",
            figure="both replicas deliver: updates per client while measured, and the lag",
            measured="; ".join(f"replica {'ab'[i]}: {r.clients:,} clients, {min(r.updates or [0])}–"
                               f"{max(r.updates or [0])} updates each, {r.lag_text()}, {r.cpu_text()}"
                               for i, r in enumerate(results)),  # fmt: skip
            baseline="the replica holding the lease reads upstream and publishes through Redis pub/sub",
            ratio=None,
            target="every client of both replicas gets updates",
            met=all(count > 0 for count in starved),
            details=details,
        )
    )
