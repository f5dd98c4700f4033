"""Indicators (issue 16): ten indicators over 1000 candles, cold and cached, each next to the
plain ``/api/ohlcv`` of the same 1000 candles measured the same way in the same run.

The request: ``indicators=rsi:14,ema:50,sma:20,macd,bbands:20:2:2,atr,adx,obv,stoch,cci`` with
``limit = 1000 - warmup`` (warmup as the service reports it: 549, from ema:50's 49 + 10 × 50), so
exactly 1000 candles go into the computation and they are ``/api/ohlcv?limit=1000``'s: the
window, not the history ranges.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from tests.benchmarks.lab import KeepAlive, Lab, Server
from tests.benchmarks.options import INTERVALS, SYMBOLS, Options
from tests.benchmarks.report import Report, Row

NAME = "indicators"
INDICATORS = "rsi:14,ema:50,sma:20,macd,bbands:20:2:2,atr,adx,obv,stoch,cci"
CANDLES = 1000
#: The market the cached figures ask for; the cold ones take fresh markets after it.
MARKET = ("BTC", "1h")


def indicators_path(symbol: str, interval: str, limit: int) -> str:
    return f"/api/indicators?symbol={symbol}&interval={interval}&limit={limit}&indicators={INDICATORS}"


def ohlcv_path(symbol: str, interval: str) -> str:
    return f"/api/ohlcv?symbol={symbol}&interval={interval}&limit={CANDLES}"


@dataclass
class Timings:
    """Wall times of sequential requests, in seconds."""

    seconds: list[float]

    def quantile(self, share: float) -> float:
        if len(self.seconds) == 1:
            return self.seconds[0]
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[round(share * 100) - 1]

    def summary(self) -> str:
        ms = [self.quantile(q) * 1000 for q in (0.5, 0.9, 0.99)]
        return f"p50 {ms[0]:.2f} ms, p90 {ms[1]:.2f} ms, p99 {ms[2]:.2f} ms ({len(self.seconds)} requests)"

    def as_dict(self) -> dict[str, Any]:
        return {f"p{int(q * 100)}_ms": self.quantile(q) * 1000 for q in (0.5, 0.9, 0.99)} | {
            "requests": len(self.seconds)
        }


def _timed(connection: KeepAlive, path: str) -> float:
    started = time.perf_counter()
    answer = connection.get(path)
    seconds = time.perf_counter() - started
    if answer.status != 200:
        raise RuntimeError(f"{path}: {answer.status} {answer.body[:300]!r}")
    return seconds


def indicators_services(lab: Lab, options: Options) -> None:
    """Start (not wait for) the service: a fresh one, so the first requests are cold."""
    lab.spawn_service(NAME)


def indicators(lab: Lab, options: Options, report: Report) -> None:
    """Cold, compute-only and cached indicators, each next to /api/ohlcv of the same candles."""
    server = lab.wait_ready(lab.spawn_service(NAME))
    try:
        probe = server.get(indicators_path(*MARKET, 1))
        if probe.status == 404 and b"NOT_FOUND" in probe.body:
            report.add(Row(NAME, "10 indicators over 1000 candles", "GET /api/indicators is not in this build",
                           "", None, "", None, status="skipped"))  # fmt: skip
            return
        if probe.status != 200:
            raise RuntimeError(f"/api/indicators: {probe.status} {probe.body[:300]!r}")
        warmup = int(probe.json()["warmup"])
        limit = CANDLES - warmup
        _cold(lab, server, options, report, warmup, limit)
        _cached(lab, server, options, report, warmup, limit)
    finally:
        lab.stop(server)


def _fresh_markets(count: int) -> list[tuple[str, str]]:
    markets = [(s, i) for i in ("1h", "4h", "1d", "15m", "5m") if i in INTERVALS for s in SYMBOLS]
    return [m for m in markets if m != MARKET][:count]


def _cold(lab: Lab, server: Server, options: Options, report: Report, warmup: int, limit: int) -> None:
    """First requests: with nothing cached (the window fetched upstream, then computed) against
    the first /api/ohlcv of other fresh markets; and with the window cached (computation only)
    against that cached /api/ohlcv."""
    count = 3 if options.duration < 2 else 20
    markets = _fresh_markets(3 * count)
    connection = KeepAlive(server.rest_port or 0, timeout=120)
    try:
        cold = Timings([_timed(connection, indicators_path(s, i, limit)) for s, i in markets[:count]])
        cold_ohlcv = Timings([_timed(connection, ohlcv_path(s, i)) for s, i in markets[count:2 * count]])
        cached_ohlcv, compute = [], []
        for s, i in markets[2 * count:]:
            _timed(connection, ohlcv_path(s, i))  # the window, now cached
            cached_ohlcv.append(_timed(connection, ohlcv_path(s, i)))
            compute.append(_timed(connection, indicators_path(s, i, limit)))
    finally:
        connection.close()
    shown = f"`limit={limit}` + warmup {warmup} = {CANDLES} candles"
    report.add(Row(
        NAME, f"cold: the first 10-indicator request of a market, nothing cached ({shown})",
        cold.summary(), f"the first `GET /api/ohlcv?limit={CANDLES}` of other fresh markets: {cold_ohlcv.summary()}",
        cold.quantile(0.5) / cold_ohlcv.quantile(0.5), "(no target; p50 ratio reported)", None,
        details={"indicators": cold.as_dict(), "ohlcv": cold_ohlcv.as_dict(), "markets": markets[:2 * count]},
    ))  # fmt: skip
    report.add(Row(
        NAME, f"computation: the first 10-indicator request of a market whose {CANDLES} candles are cached",
        Timings(compute).summary(), f"cached `GET /api/ohlcv?limit={CANDLES}` of the same markets just before: "
        f"{Timings(cached_ohlcv).summary()}",
        Timings(compute).quantile(0.5) / Timings(cached_ohlcv).quantile(0.5), "(no target; p50 ratio reported)",
        None, details={"indicators": Timings(compute).as_dict(), "ohlcv": Timings(cached_ohlcv).as_dict()},
    ))  # fmt: skip


def _cached(lab: Lab, server: Server, options: Options, report: Report, warmup: int, limit: int) -> None:
    """The same request repeated (a memo hit) against the cached /api/ohlcv of its candles:
    sequential latencies on one connection, then the load generator's throughput."""
    ours, plain = indicators_path(*MARKET, limit), ohlcv_path(*MARKET)
    count = 20 if options.duration < 2 else 300
    connection = KeepAlive(server.rest_port or 0)
    try:
        for path in (ours, plain):
            _timed(connection, path)
        sequential = {path: Timings([_timed(connection, path) for _ in range(count)]) for path in (ours, plain)}
    finally:
        connection.close()
    if options.warmup > 0:
        for path in (ours, plain):
            lab.http(server, path, options.warmup, options.connections)
    loaded = {path: lab.http(server, path, options.duration, options.connections) for path in (ours, plain)}
    cpu = {p: "" if r.server_cpu is None else f", server CPU {r.server_cpu:.0%}" for p, r in loaded.items()}
    report.add(Row(
        NAME, f"cached: the same 10-indicator request repeated (`limit={limit}`, {CANDLES} candles), "
        "one connection, sequential",
        sequential[ours].summary(), f"cached `GET /api/ohlcv?symbol=BTC&interval=1h&limit={CANDLES}`: "
        f"{sequential[plain].summary()}",
        sequential[ours].quantile(0.5) / sequential[plain].quantile(0.5), "(no target; p50 ratio reported)", None,
        details={"indicators": sequential[ours].as_dict(), "ohlcv": sequential[plain].as_dict()},
    ))  # fmt: skip
    report.add(Row(
        NAME, f"cached: the same 10-indicator request under load ({options.connections} connections)",
        loaded[ours].summary() + cpu[ours], f"cached `GET /api/ohlcv?...&limit={CANDLES}`: "
        + loaded[plain].summary() + cpu[plain],
        loaded[ours].rps / loaded[plain].rps if loaded[plain].rps else None,
        "(no target; req/s ratio reported)", None,
        details={"indicators": loaded[ours].as_dict(), "ohlcv": loaded[plain].as_dict()},
    ))  # fmt: skip
