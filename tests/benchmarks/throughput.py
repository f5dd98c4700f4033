"""Cached throughput and latency, each next to a baseline loaded the same way in the same
run: bare aiohttp (1), bare grpc.aio (2), the memory backend (6), one worker (7)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from protos.cryptodata.v1 import market_data_pb2 as pb
from tests.benchmarks.lab import Lab, Server
from tests.benchmarks.loadgen import LoadResult, grpc_capture
from tests.benchmarks.options import ENDPOINTS, PRICES, Options
from tests.benchmarks.processes import cpu_seconds
from tests.benchmarks.report import Report, Row

GRPC_METHODS = {
    "GetPrices": pb.GetPricesRequest(symbols=["BTC", "ETH", "SOL"]).SerializeToString(),
    "GetOhlcv": pb.GetOhlcvRequest(symbol="BTC", interval="1h", limit=200).SerializeToString(),
}
GRPC_PREFIX = "/cryptodata.v1.MarketData/"


def _ratio(measured: float | None, baseline: float | None) -> float | None:
    if measured is None or not baseline:
        return None
    return measured / baseline


def _cpu(result: LoadResult) -> str:
    return "" if result.server_cpu is None else f" (server CPU {result.server_cpu:.0%})"


def _saturation(baseline: LoadResult, what: str) -> str:
    """A caveat when the baseline server was not the bottleneck of its own run."""
    if baseline.server_cpu is None or baseline.server_cpu >= 0.85:
        return ""
    return (
        f"{what} used only {baseline.server_cpu:.0%} of a core: the load generator (or other work on the "
        "machine) limited it, so this ratio flatters the service"
    )


def _warm(server: Server, path: str) -> bytes:
    """Request ``path`` until it is cached; returns the cached answer's body."""
    for _ in range(3):
        answer = server.get(path)
        if answer.status != 200:
            raise RuntimeError(f"{server.name} answered {answer.status} to {path}: {answer.body[:300]!r}")
    return answer.body


def _warm_load(
    lab: Lab, server: Server, path: str, options: Options, threads: int = 1, connections: int | None = None
) -> None:
    if options.warmup > 0:
        lab.http(server, path, options.warmup, connections or options.connections, threads)


# -- 1. cached REST against bare aiohttp ------------------------------------------------


def rest(lab: Lab, options: Options, report: Report) -> None:
    """Cached throughput and latency of both endpoints against a bare aiohttp handler."""
    service = lab.shared_service
    bodies = {name: _warm(service, path) for name, path in ENDPOINTS.items()}
    bare = lab.start_bare_http({path.split("?")[0]: bodies[name] for name, path in ENDPOINTS.items()})
    try:
        for name, path in ENDPOINTS.items():
            _warm_load(lab, service, path, options)
            _warm_load(lab, bare, path, options)
            measured = lab.http(service, path, options.duration, options.connections)
            baseline = lab.http(bare, path, options.duration, options.connections)
            ratio = _ratio(measured.rps, baseline.rps)
            report.add(
                Row(
                    benchmark="rest",
                    figure=f"cached `GET {path}`: throughput, p50/p99",
                    measured=measured.summary() + _cpu(measured),
                    baseline="bare aiohttp, same bytes: " + baseline.summary() + _cpu(baseline),
                    ratio=ratio,
                    target="≥ 0.8 of bare aiohttp",
                    met=None if ratio is None else ratio >= 0.8,
                    note=_saturation(baseline, "the bare aiohttp server"),
                    details={
                        "service": measured.as_dict(),
                        "bare": baseline.as_dict(),
                        "body_bytes": len(bodies[name]),
                    },
                )
            )
    finally:
        lab.stop(bare)


# -- 2. cached gRPC against bare grpc.aio -----------------------------------------------


def grpc(lab: Lab, options: Options, report: Report) -> None:
    """Cached unary GetPrices / GetOhlcv against a bare grpc.aio generic handler."""
    service = lab.shared_service
    files = {name: str(lab.workdir / f"grpc-{name}.bin") for name in GRPC_METHODS}
    grpc_capture(
        lab.processes,
        service.grpc_target,
        {GRPC_PREFIX + name: (payload, files[name]) for name, payload in GRPC_METHODS.items()},
    )
    answers = {name: Path(file).read_bytes() for name, file in files.items()}
    bare = lab.start_bare_grpc(answers)
    try:
        for name, payload in GRPC_METHODS.items():
            method = GRPC_PREFIX + name
            args = (options.duration, options.grpc_concurrency, options.grpc_clients)
            if options.warmup > 0:
                lab.grpc(service, method, payload, options.warmup, *args[1:])
                lab.grpc(bare, method, payload, options.warmup, *args[1:])
            measured = lab.grpc(service, method, payload, *args)
            baseline = lab.grpc(bare, method, payload, *args)
            ratio = _ratio(measured.rps, baseline.rps)
            report.add(
                Row(
                    benchmark="grpc",
                    figure=f"cached unary `{name}`: throughput, p50/p99",
                    measured=measured.summary().replace("req/s", "calls/s") + _cpu(measured),
                    baseline="bare grpc.aio, same bytes: "
                    + baseline.summary().replace("req/s", "calls/s")
                    + _cpu(baseline),
                    ratio=ratio,
                    target="≥ 0.8 of bare grpc.aio",
                    met=None if ratio is None else ratio >= 0.8,
                    note=_saturation(baseline, "the bare grpc.aio server"),
                    details={
                        "service": measured.as_dict(),
                        "bare": baseline.as_dict(),
                        "answer_bytes": len(answers[name]),
                    },
                )
            )
    finally:
        lab.stop(bare)


# -- 6. redis backend --------------------------------------------------------------------


def redis_service(lab: Lab, options: Options) -> Server | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    return lab.spawn_service("service-redis", CACHE_BACKEND="redis", REDIS_URL=lab.redis_url(binary))


def redis(lab: Lab, options: Options, report: Report) -> None:
    """Cached throughput with CACHE_BACKEND=redis relative to the memory backend."""
    spawned = redis_service(lab, options)
    if spawned is None:
        for name in ENDPOINTS:
            report.add(
                Row(
                    "redis",
                    f"cached `{name}`: redis / memory backend",
                    "redis-server is not installed",
                    "",
                    None,
                    "≥ 0.5 of the memory backend",
                    None,
                    status="skipped",
                )
            )
        return
    memory_service = lab.shared_service
    service = lab.wait_ready(spawned)
    try:
        for name, path in ENDPOINTS.items():
            _warm(service, path)
            _warm(memory_service, path)
            _warm_load(lab, service, path, options)
            _warm_load(lab, memory_service, path, options)
            redis_pids = [lab.redis_pid] if lab.redis_pid is not None else []
            redis_cpu, started = cpu_seconds(redis_pids), time.monotonic()
            measured = lab.http(service, path, options.duration, options.connections)
            redis_share = (cpu_seconds(redis_pids) - redis_cpu) / (time.monotonic() - started)
            baseline = lab.http(memory_service, path, options.duration, options.connections)
            cache = service.get("/api/health").json().get("cache", {})
            ratio = _ratio(measured.rps, baseline.rps)
            report.add(
                Row(
                    benchmark="redis",
                    figure=f"cached `GET {path}`: CACHE_BACKEND=redis",
                    measured=f"{measured.summary()} (server CPU {measured.server_cpu or 0:.0%}, redis-server {redis_share:.0%})",
                    baseline="CACHE_BACKEND=memory: " + baseline.summary() + _cpu(baseline),
                    ratio=ratio,
                    target="≥ 0.5 of the memory backend",
                    met=None if ratio is None else ratio >= 0.5,
                    note=_saturation(baseline, "the memory-backend service"),
                    details={
                        "redis": measured.as_dict(),
                        "memory": baseline.as_dict(),
                        "health_cache": cache,
                        "redis_server_cpu": redis_share,
                    },
                )
            )
    finally:
        lab.stop(service)


# -- 7. workers --------------------------------------------------------------------------


def _worker_pids(server: Server, expected: int, timeout: float = 60) -> set[int]:
    """The pids answering /api/health over new connections, once ``expected`` have answered."""
    deadline = time.monotonic() + timeout
    pids: set[int] = set()
    while time.monotonic() < deadline:
        try:
            pid = server.get("/api/health").json().get("pid")
        except OSError:
            time.sleep(0.05)
            continue
        if pid is None:  # a version without the pid in health: trust the process tree
            return set(server.child.tree()) - {server.child.pid}
        pids.add(pid)
        if len(pids) >= expected:
            return pids
    raise TimeoutError(f"only {len(pids)} of {expected} workers answered")


def workers_service(lab: Lab, options: Options) -> Server:
    return lab.spawn_service(f"service-workers-{options.workers}", workers=options.workers)


def workers(lab: Lab, options: Options, report: Report) -> None:
    """``serve --workers N`` against one worker, on the cached prices endpoint."""
    count = options.workers
    single = lab.shared_service
    many = workers_service(lab, options)
    try:
        many = lab.wait_ready(many)
        pids = _worker_pids(many, count)
        threads = count  # one load thread per worker, the same for both runs
        connections = max(options.connections, 2 * count)
        _warm(single, PRICES)
        # every worker has its own memory cache: new connections land on every worker
        for _ in range(12 * count):
            if many.get(PRICES).status != 200:
                raise RuntimeError(f"{many.name} does not answer {PRICES}")
        _warm_load(lab, many, PRICES, options, threads, connections)
        _warm_load(lab, single, PRICES, options, threads, connections)
        measured = lab.http(many, PRICES, options.duration, connections, threads)
        baseline = lab.http(single, PRICES, options.duration, connections, threads)
    finally:
        lab.stop(many)
    ratio = _ratio(measured.rps, baseline.rps)
    cores = report.machine.get("usable_cores") or 1
    report.add(
        Row(
            benchmark="workers",
            figure=f"cached `GET {PRICES}`: `serve --workers {count}` vs one worker",
            measured=f"{count} workers: " + measured.summary() + _cpu(measured),
            baseline="1 worker: " + baseline.summary() + _cpu(baseline),
            ratio=ratio,
            target="clearly above 1 worker on a multi-core machine (≥ 1.3)",
            met=None if ratio is None else ratio >= 1.3,
            note=""
            if cores > count
            else f"only {cores} cores for {count} workers and the load generator: "
            "the workers compete with the load generator for CPU, so this understates the scaling",
            details={
                "workers": measured.as_dict(),
                "single": baseline.as_dict(),
                "worker_pids": sorted(pids),
            },
        )
    )
