"""History through real ``crypto-data-engine serve`` processes (test_history_restart.py,
test_history_replicas.py; no tests live here): every *_BASE_URL and *_WS_URL at the upstream
simulator, which runs on the real clock as the processes do, so ranges here lie well in the
past. Expected values come from history_chain_support's raw reads of the simulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from simulator import UpstreamSimulator
from tests.e2e.history_chain_support import HOUR
from tests.e2e.served_process import ServedProcess


@dataclass
class ServeProcess:
    """A spawned ``crypto-data-engine serve --rest-only`` and its REST base URL."""

    served: ServedProcess
    base: str

    @property
    def pid(self) -> int:
        return int(self.served.process.pid)

    async def get(self, path: str, **params: Any) -> tuple[int, Any]:
        """(status, JSON body) of a GET."""
        query = {k: str(v) for k, v in params.items()}
        async with aiohttp.ClientSession() as http, http.get(self.base + path, params=query) as response:
            return response.status, await response.json()

    async def range(self, **params: Any) -> dict[str, Any]:
        """A 200 answer of /api/ohlcv (BTC 1h unless said) in range mode."""
        status, body = await self.get("/api/ohlcv", **{"symbol": "BTC", "interval": "1h", **params})
        assert status == 200, body
        return body

    async def stop(self) -> int:
        """SIGTERM to its pid; its exit code."""
        self.served.terminate()
        code, _ = await self.served.exit()
        return int(code)


async def spawn(sim: UpstreamSimulator, workdir: Path, **env: str) -> ServeProcess:
    """Start ``serve`` (REST only, a free port) in ``workdir`` against ``sim``: every
    *_BASE_URL and *_WS_URL at the simulator, ``env`` on top; wait until it listens."""
    workdir.mkdir(parents=True, exist_ok=True)
    quiet = {"RATE_LIMIT_ENABLED": "false", "UPSTREAM_BUDGET_BINANCE": "100000/second",
             "UPSTREAM_BUDGET_KRAKEN": "100000/second"}  # fmt: skip
    served = await ServedProcess.start(sim, workdir, "--rest-only", "--port", "0", **{**quiet, **env})
    try:
        async with asyncio.timeout(60):
            port = await served.port("rest listening")
    except BaseException:
        await served.kill()
        raise
    return ServeProcess(served, f"http://127.0.0.1:{port}")


@pytest.fixture
async def serve_processes() -> AsyncIterator[list[ServeProcess]]:
    """Processes a test appends here are killed afterwards if still running."""
    started: list[ServeProcess] = []
    yield started
    for process in started:
        await process.served.kill()


def hour_now() -> int:
    """The open time of the hour in progress on the real clock (spawned services read it)."""
    now_ms = int(time.time() * 1000)
    return now_ms - now_ms % HOUR
