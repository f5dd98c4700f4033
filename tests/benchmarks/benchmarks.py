"""The seven benchmarks, by the name ``--only`` takes, with the services each uses and how
each is measured. Every figure is a ratio or a count of two things measured side by side in
the same run, never an absolute time to compare across machines."""

from __future__ import annotations

from collections.abc import Callable

from tests.benchmarks.lab import SHARED, Lab, Server
from tests.benchmarks.memory import memory, memory_service
from tests.benchmarks.options import Benchmark, Options
from tests.benchmarks.resilience import cold_burst, failover, failover_services
from tests.benchmarks.throughput import grpc, redis, redis_service, rest, workers, workers_service

__all__ = ["BENCHMARKS", "NOTES", "SERVICES", "Options"]


def _shared_service(lab: Lab, options: Options) -> Server:
    return lab.spawn_service(SHARED)


#: The services each benchmark uses, to start them all ahead at once (``--smoke``).
SERVICES: dict[str, list[Callable[[Lab, Options], object]]] = {
    "rest": [_shared_service],
    "grpc": [_shared_service],
    "cold_burst": [_shared_service],
    "failover": [failover_services],
    "memory": [memory_service],
    "redis": [_shared_service, redis_service],
    "workers": [_shared_service, workers_service],
}

BENCHMARKS: dict[str, Benchmark] = {
    "rest": rest,
    "grpc": grpc,
    "cold_burst": cold_burst,
    "failover": failover,
    "memory": memory,
    "redis": redis,
    "workers": workers,
}

#: How each benchmark is measured, for the report.
NOTES: dict[str, str] = {
    "rest": "the service (`serve --workers 1`, memory backend, cache warmed) and a bare aiohttp handler "
    "returning the very body bytes the service answered (same AppRunner set-up, no aiohttp access log) are "
    "loaded one after the other with the same load generator, connection count and duration; ratio = "
    "service req/s ÷ bare req/s. Server CPU shows whether the server (≈100%) or the load generator was "
    "the bottleneck.",
    "grpc": "a grpc.aio client process keeps N unary calls in flight (pre-serialized request, answer not "
    "parsed) against the service and against a bare grpc.aio server whose generic handler returns the "
    "service's serialized answer; ratio = service calls/s ÷ bare calls/s.",
    "cold_burst": "one load process opens the connections first, then sends one identical request on each "
    "at the same moment for a key nothing has asked for; the count is the upstream calls the simulator "
    "recorded meanwhile (every provider).",
    "failover": "two fresh services with a short REQUEST_TIMEOUT: one with OHLCV_PROVIDERS=kraken (the "
    "baseline: a normal Kraken answer for each of the same cold keys), then the default binance,kraken "
    "one while the simulator holds every Binance klines request open (the `timeout` fault). Requests are "
    "sequential on one keep-alive connection; after each, /api/health gives Binance's circuit state. "
    "The UPSTREAM_BUDGET_KRAKEN default (about 1 call/s) is raised so the 50 cold keys are not refused "
    "by our own budget.",
    "memory": "a fresh service: VmRSS (/proc/<pid>/status) idle after start, then after fetching every "
    "supported symbol × interval with limit=1000 (4 at a time) and reading all of them once more from "
    "the cache; bytes per candle = RSS growth ÷ candles cached (the `count` of each answer).",
    "redis": "a service with CACHE_BACKEND=redis (redis-server started by the suite on a free loopback "
    "port) and the memory-backend service, loaded one after the other; ratio = redis req/s ÷ memory req/s.",
    "workers": "`serve --workers N` and the one-worker service, same load (one load thread per worker, "
    "same connections); every worker's cache is filled by a short warm-up run first.",
}
