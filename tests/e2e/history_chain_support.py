"""History through the real chain, for the suites test_history_chain*.py, test_history_restart.py
and test_history_replicas.py (no tests live here; the spawned processes are in
history_serve_support.py).

Nothing is faked: the service (in process over real loopback sockets, or a spawned ``serve``
process) → the real Binance and Kraken adapters → the upstream simulator's history (paging,
outages, listing times, Kraken's 720-bar reach) → the real candle store (a SQLite file in the
test's tmp dir, or a throwaway PostgreSQL). In process, the service and the simulator read one
``WallClock`` that stands still, so the candle in progress is the same for both.

Expected candles come from the simulator's own wire answers, read here over raw HTTP and
parsed here, never from the code under test. Upstream calls are counted in the simulator's
request log.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from aiohttp import web
from dependency_injector import providers

from entrypoints.container import Container, build_container, start, stop
from entrypoints.grpc.server import GrpcServer
from entrypoints.rest.app import create_app
from entrypoints.settings import Settings
from protos.cryptodata.v1 import market_data_pb2_grpc as pb_grpc
from simulator import UpstreamSimulator
from tests.conftest import settings_for
from tests.e2e.live_chain_support import WallClock
from tests.e2e.test_rest_support import GENEROUS_BUDGETS

HOUR = 3_600_000
MINUTE = 60_000
KLINES = "/api/v3/klines"
OHLC = "/0/public/OHLC"
#: The shared clock of the in-process suites: 2026-05-28T06:26:40.5Z.
NOW = 1_779_949_600.5
NOW_MS = int(NOW * 1000)
#: The hour in progress at NOW.
THIS_HOUR = NOW_MS - NOW_MS % HOUR
#: Settings of every service here: no per-client limits in the way, our budgets generous.
QUIET: dict[str, Any] = {"rate_limit_enabled": False, **GENEROUS_BUDGETS}


def hours(first: int, count: int) -> list[int]:
    """``count`` hourly open times from ``first``."""
    return [first + i * HOUR for i in range(count)]


def number(text: str) -> float:
    """An exchange's decimal string as the nearest float (via Decimal, not the adapters)."""
    return float(Decimal(text))


# -- the simulator's own answers ------------------------------------------------------------


async def raw_get(url: str, **params: str) -> Any:
    """GET ``url`` on a session of its own and parse its JSON (200 only)."""
    async with aiohttp.ClientSession() as http, http.get(url, params=params) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def sim_klines(sim: UpstreamSimulator, interval: str, start: int, end: int,
                     symbol: str = "BTCUSDT") -> list[dict[str, Any]]:  # fmt: skip
    """The Binance klines opening in ``[start, end)`` as the simulator serves them, as candle
    JSON: read by ``startTime`` alone, 1000 a call, stepping past the last row each time."""
    found: list[dict[str, Any]] = []
    cursor = start
    while cursor < end:
        rows = await raw_get(sim.base_urls["binance"] + KLINES, symbol=symbol, interval=interval,
                             startTime=str(cursor), limit="1000")  # fmt: skip
        found += [binance_candle(r) for r in rows if r[0] < end]
        if len(rows) < 1000:
            break
        cursor = rows[-1][0] + 1
    return found


def binance_candle(row: list[Any]) -> dict[str, Any]:
    """A Binance klines row as the service's clients see a candle."""
    return {"timestamp": row[0], "open": number(row[1]), "high": number(row[2]), "low": number(row[3]),
            "close": number(row[4]), "volume": number(row[5])}  # fmt: skip


async def sim_kraken_bars(sim: UpstreamSimulator, minutes: int, pair: str = "XBTUSD") -> list[dict[str, Any]]:
    """Every bar Kraken keeps for ``minutes`` (its last 720), as candle JSON."""
    body = await raw_get(sim.base_urls["kraken"] + OHLC, pair=pair, interval=str(minutes))
    assert body["error"] == []
    (rows,) = [v for k, v in body["result"].items() if k != "last"]
    return [{"timestamp": r[0] * 1000, "open": number(r[1]), "high": number(r[2]), "low": number(r[3]),
             "close": number(r[4]), "volume": number(r[6])} for r in rows]  # fmt: skip


def csv_line(candle: dict[str, Any]) -> str:
    """One CSV row, numbers in their shortest round-trip form (as JSON writes them)."""
    keys = ("open", "high", "low", "close", "volume")
    return ",".join([str(candle["timestamp"]), *(repr(float(candle[k])) for k in keys)])


class UpstreamLog:
    """The history calls the simulator received since ``mark()``."""

    def __init__(self, sim: UpstreamSimulator) -> None:
        self.sim = sim
        self._from = 0

    def mark(self) -> None:
        """Count from now on (a test's own raw reads before this are not counted)."""
        self._from = len(self.sim.requests)

    def queries(self, provider: str = "binance") -> list[dict[str, str]]:
        """The queries of ``provider``'s candle calls (klines or OHLC) since the mark."""
        path = KLINES if provider == "binance" else OHLC
        return [r.query for r in self.sim.requests[self._from :] if r.provider == provider and r.path == path]

    def count(self) -> int:
        """Candle calls to Binance and Kraken together since the mark."""
        return len(self.queries("binance")) + len(self.queries("kraken"))


def klines_query(start: int, end: int, interval: str = "1h", symbol: str = "BTCUSDT") -> dict[str, str]:
    """The klines query of one range page: Binance's endTime is inclusive, ranges half-open."""
    return {"symbol": symbol, "interval": interval, "startTime": str(start), "endTime": str(end - 1),
            "limit": "1000"}  # fmt: skip


# -- the store, read directly -------------------------------------------------------------


def sqlite_rows(path: Path, interval: str = "1h", market: str = "BTC/USDT") -> dict[int, tuple[float, ...]]:
    """open time → (open, high, low, close, volume) of every stored candle, read with sqlite3."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT open_time, open, high, low, close, volume FROM candles "
            "WHERE market = ? AND interval = ? ORDER BY open_time",
            (market, interval),
        ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def sqlite_covered(path: Path, interval: str = "1h", market: str = "BTC/USDT") -> list[tuple[int, int]]:
    """The covered spans stored for a market, oldest first."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute("SELECT start_ms, end_ms FROM covered_spans WHERE market = ? AND interval = ? "
                          "ORDER BY start_ms", (market, interval)).fetchall()  # fmt: skip


def values(candle: dict[str, Any]) -> tuple[float, ...]:
    return tuple(candle[k] for k in ("open", "high", "low", "close", "volume"))


# -- the service in process, over real sockets ---------------------------------------------


@dataclass
class ChainHistory:
    """One service over the real chain: REST on a loopback port, gRPC beside it on the same
    container, the SQLite store at ``store_path``."""

    settings: Settings
    container: Container
    runner: web.AppRunner
    port: int
    grpc_server: GrpcServer
    channel: grpc.aio.Channel
    store_path: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def stub(self) -> pb_grpc.MarketDataStub:
        return pb_grpc.MarketDataStub(self.channel)

    async def get(self, path: str, **params: Any) -> tuple[int, Any]:
        """(status, JSON body) of a GET."""
        query = {k: str(v) for k, v in params.items()}
        async with aiohttp.ClientSession() as http, http.get(self.url(path), params=query) as response:
            return response.status, await response.json()

    async def range(self, **params: Any) -> dict[str, Any]:
        """A 200 answer of /api/ohlcv (BTC 1h unless said) in range mode."""
        status, body = await self.get("/api/ohlcv", **{"symbol": "BTC", "interval": "1h", **params})
        assert status == 200, body
        return body

    async def stop(self) -> None:
        await self.channel.close()
        await self.grpc_server.stop()
        await self.runner.cleanup()
        await stop(self.container)


StartHistory = Callable[..., Awaitable[ChainHistory]]


@pytest.fixture
def wall() -> WallClock:
    return WallClock(NOW)


@pytest.fixture
async def chain_sim(wall: WallClock) -> AsyncIterator[UpstreamSimulator]:
    """The upstream simulator on the shared, still clock."""
    sim = UpstreamSimulator(now=wall.now)
    await sim.start(host="127.0.0.1", port=0)
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
async def start_history(chain_sim: UpstreamSimulator, wall: WallClock,
                        tmp_path: Path) -> AsyncIterator[StartHistory]:  # fmt: skip
    """Start services over the real chain (settings overrides as keywords); each has its own
    SQLite file unless ``candle_store_path`` is given."""
    started: list[ChainHistory] = []

    async def begin(**overrides: Any) -> ChainHistory:
        path = Path(overrides.pop("candle_store_path", tmp_path / f"candles-{len(started)}.sqlite3"))
        values = {**QUIET, "grpc_port": 0, "shutdown_grace": 1.0, "candle_store_path": str(path), **overrides}
        settings = settings_for(chain_sim, **values)
        container = build_container(settings)
        container.shared.clock.override(providers.Object(wall))
        use_cases = await start(container)
        runner = web.AppRunner(create_app(settings, container, use_cases), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        server = GrpcServer(settings, use_cases, health_every=5.0)
        grpc_port = await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}")
        service = ChainHistory(settings, container, runner, runner.addresses[0][1], server, channel, path)
        started.append(service)
        return service

    yield begin
    for service in reversed(started):
        await service.stop()
