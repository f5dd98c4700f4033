"""``serve --workers N``: worker processes sharing the ports, stopped together."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp

from tests.e2e.test_grpc_serve import _environment
from tests.redis_server import free_port
from tests.simulator import UpstreamSimulator


async def _pids_answering(port: int, attempts: int) -> set[int]:
    pids: set[int] = set()
    for _ in range(attempts):
        # a new connection each time: the kernel picks a worker per connection
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            async with http.get(f"http://127.0.0.1:{port}/api/health") as response:
                pids.add((await response.json())["pid"])
    return pids


async def test_two_workers_share_the_rest_port_and_stop_on_sigterm(
    simulator: UpstreamSimulator, tmp_path: Path
) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "entrypoints.cli", "serve", "--workers", "2", "--rest-only",
        "--host", "127.0.0.1", "--port", str(port),
        cwd=tmp_path,
        env=_environment(simulator),
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with asyncio.timeout(60):
            while True:  # until both workers listen
                try:
                    pids = await _pids_answering(port, 40)
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.2)
                    continue
                if len(pids) == 2:
                    break
                await asyncio.sleep(0.2)
            process.send_signal(signal.SIGTERM)
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.pid not in pids  # the supervisor only supervises; the workers answer
    assert code == 0


async def test_workers_refuse_port_zero(tmp_path: Path, simulator: UpstreamSimulator) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "entrypoints.cli", "serve", "--workers", "2", "--port", "0",
        cwd=tmp_path, env=_environment(simulator), stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert b"--workers needs fixed ports" in stderr
