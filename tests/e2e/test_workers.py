"""``serve --workers N``: worker processes sharing the ports, stopped together."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp

from simulator import UpstreamSimulator
from tests.e2e.served_process import alive
from tests.e2e.test_grpc_serve import _environment
from tests.redis_server import free_port


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
            pids = await _both_worker_pids(port)
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


async def _start_workers(simulator: UpstreamSimulator, tmp_path: Path, port: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "entrypoints.cli", "serve", "--workers", "2", "--rest-only",
        "--host", "127.0.0.1", "--port", str(port),
        cwd=tmp_path, env=_environment(simulator), stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def _both_worker_pids(port: int) -> set[int]:
    while True:
        try:
            pids = await _pids_answering(port, 40)
        except aiohttp.ClientConnectionError:
            pids = set()
        if len(pids) == 2:
            return pids
        await asyncio.sleep(0.2)


async def _until_gone(pids: set[int]) -> None:
    while any(alive(pid) for pid in pids):
        await asyncio.sleep(0.2)


async def test_a_worker_that_dies_stops_the_others_and_fails_the_service(
    simulator: UpstreamSimulator, tmp_path: Path
) -> None:
    port = free_port()
    process = await _start_workers(simulator, tmp_path, port)
    try:
        async with asyncio.timeout(60):
            pids = await _both_worker_pids(port)
            victim, survivor = sorted(pids)
            os.kill(victim, signal.SIGKILL)
            code = await process.wait()
            await _until_gone({survivor})
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 1
    assert not alive(survivor)


async def test_workers_stop_when_their_supervisor_is_killed(simulator: UpstreamSimulator, tmp_path: Path) -> None:
    port = free_port()
    process = await _start_workers(simulator, tmp_path, port)
    pids: set[int] = set()
    try:
        async with asyncio.timeout(60):
            pids = await _both_worker_pids(port)
            process.kill()  # SIGKILL: the supervisor can pass nothing on
            await process.wait()
            await _until_gone(pids)
    finally:
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert not any(alive(pid) for pid in pids)


async def test_any_worker_answers_a_scrape_with_the_whole_services_metrics(
    simulator: UpstreamSimulator, tmp_path: Path
) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    def health_requests(exposition: str) -> float:
        return sum(
            sample.value
            for family in text_string_to_metric_families(exposition)
            for sample in family.samples
            if sample.name == "cde_http_requests_total" and sample.labels.get("route") == "/api/health"
        )

    async def fresh_get(path: str) -> str:  # a new connection: the kernel picks a worker
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            async with http.get(f"http://127.0.0.1:{port}{path}") as response:
                assert response.status == 200
                return await response.text()

    port = free_port()
    env = {k: v for k, v in _environment(simulator).items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "entrypoints.cli", "serve", "--workers", "2", "--rest-only",
        "--host", "127.0.0.1", "--port", str(port),
        cwd=tmp_path, env=env, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with asyncio.timeout(60):
            pids = await _both_worker_pids(port)
            before = [health_requests(await fresh_get("/metrics")) for _ in range(4)]
            served = {json.loads(await fresh_get("/api/health"))["pid"] for _ in range(30)}
            after = [health_requests(await fresh_get("/metrics")) for _ in range(4)]
            process.send_signal(signal.SIGTERM)
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert served == pids  # both workers answered some of the 30
    # Whichever worker answers a scrape, it reports both workers' requests.
    assert len(set(before)) == 1 and len(set(after)) == 1
    assert after[0] - before[0] == 30
