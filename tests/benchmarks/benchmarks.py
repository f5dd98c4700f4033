"""The benchmarks, by the name ``--only`` takes, with the services each uses and how
each is measured. Every figure is a ratio or a count of two things measured side by side in
the same run, never an absolute time to compare across machines."""

from __future__ import annotations

from collections.abc import Callable

from tests.benchmarks.history import history, history_services
from tests.benchmarks.indicators import indicators, indicators_services
from tests.benchmarks.lab import SHARED, Lab, Server
from tests.benchmarks.live import (
    live_lag,
    live_lag_services,
    live_memory,
    live_memory_service,
    live_upstream,
    live_upstream_services,
)
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
    "live_lag": [live_lag_services],
    "live_memory": [live_memory_service],
    "live_upstream": [live_upstream_services],
    "history": [history_services],
    "indicators": [indicators_services],
}

BENCHMARKS: dict[str, Benchmark] = {
    "rest": rest,
    "grpc": grpc,
    "cold_burst": cold_burst,
    "failover": failover,
    "memory": memory,
    "redis": redis,
    "workers": workers,
    "live_lag": live_lag,
    "live_memory": live_memory,
    "live_upstream": live_upstream,
    "history": history,
    "indicators": indicators,
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
    "live_lag": "a fresh one-worker service (memory backend, live streams from the simulator's Binance "
    "WebSocket side, which sends every subscribed stream's frame once per `--stream-cadence` seconds, all "
    "streams in the same instant). N aiohttp WebSocket clients in up to `--live-load-processes` separate "
    "processes (uvloop, no JSON parse per update) each subscribe to the candles of one of 20 markets "
    "(10 symbols × 1m, 5m; client i on market i mod 20); once every client has its snapshot, each records "
    "for the duration: lag = the wall time it read an update − the update's `eventTime` (Binance's `E`, "
    "the "
    "simulator's clock when it built the upstream frame, whole ms, so the lag reads up to 1 ms high). The "
    "split: `timestamp` (the service's clock when the fan-out made the update) − `eventTime`, and read "
    "time − `timestamp`. Service and client-process CPU are over the same window; client CPU far from "
    "100% means the clients were not the bottleneck. With `--live-compare-code DIR` the same load also "
    "runs against a service started from another checkout, alternating which goes first.",
    "live_memory": "a fresh one-worker service: one client per market subscribes and leaves (the 20 streams "
    "stay open, idle timeout 60 s), then VmRSS with no client, then with N clients each holding one candles "
    "subscription (receiving the live updates, sending nothing) once all have their snapshot; per client "
    "= RSS growth ÷ N.",
    "live_upstream": "two one-worker replicas with CACHE_BACKEND=redis on the suite's redis-server; N "
    "clients, half on each replica, over the same 20 markets; the count is the WebSocket connections the "
    "simulator accepted (every provider, GET /__sim/streams) from before the clients connected to the end "
    "of the measurement, and those still open with the streams they carry.",
    "history": "three fresh one-worker services: CANDLE_STORE=sqlite (a file in the run's work directory), "
    "=postgres (a throwaway PostgreSQL server started as the test suite starts one: initdb + postgres on a "
    "free loopback port, fsync off) and =off. Ranges: the same closed range of 1h candles (ending at the "
    "start of today UTC) is asked once of each service (the first request stores it), then timed N times in "
    "sequence on one keep-alive connection; off fetches it upstream every time, the baseline. Exports: a "
    "range of 1m candles streamed to its end by a client reading 64 KB at a time, cold (nothing stored: "
    "fetched upstream as it streams) then warm (the same range again); rows/s = data lines ÷ wall time; "
    "peak RSS = the service process's VmHWM, reset (/proc/<pid>/clear_refs) before each export; CPU of the "
    "service, the simulator and PostgreSQL over the export. Bytes per stored candle: everything the store "
    "holds at the end (the 1h range, both 1m exports, the fresh ranges) over its candle count: SQLite file + "
    "-wal after the service stopped and a TRUNCATE checkpoint; PostgreSQL pg_total_relation_size of candles "
    "and covered_spans after a CHECKPOINT. Upstream calls: Binance klines requests for the market and "
    "interval in the simulator's request log (GET /__sim/requests) around one request for a fresh market's "
    "range on the SQLite service. UPSTREAM_BUDGET_BINANCE stays at its default (4800 weight a minute; a "
    "klines page weighs 2): a cold 1m export at ~15,000 rows/s spends ~1,800 weight a minute.",
    "indicators": "a fresh one-worker service (memory backend, CANDLE_STORE default). The request: "
    "`indicators=rsi:14,ema:50,sma:20,macd,bbands:20:2:2,atr,adx,obv,stoch,cci` with `limit = 1000 - warmup` "
    "(warmup 549, from ema:50), so exactly the 1000 candles of `/api/ohlcv?limit=1000` (the window, not the "
    "history ranges) go into it. Cold: the first request of each of N fresh markets (the supported symbols at 1h, then 4h), "
    "sequential on one keep-alive connection, against the first `/api/ohlcv?limit=1000` of N other fresh "
    "markets; computation: the first indicators request of a market whose window was just fetched, against "
    "the cached `/api/ohlcv` of that market just before it. Cached: the same request repeated (a memo hit), "
    "sequentially on one connection (p50/p90/p99) and under the load generator (req/s), against the cached "
    "`/api/ohlcv?symbol=BTC&interval=1h&limit=1000` loaded the same way.",
}
