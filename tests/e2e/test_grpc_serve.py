"""The runner behind ``crypto-data-engine serve``: both servers, one container, clean stops."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from entrypoints.serve import Service, run
from protos.cryptodata.v1 import market_data_pb2 as pb
from protos.cryptodata.v1 import market_data_pb2_grpc as pb_grpc
from simulator import UpstreamSimulator
from tests.conftest import settings_for

REPO_ROOT = Path(__file__).resolve().parents[2]


class Running:
    """``run()`` in a task, with the service it started."""

    def __init__(self, task: asyncio.Task[None], service: Service) -> None:
        self.task = task
        self.service = service


@pytest.fixture
async def launch(simulator: UpstreamSimulator) -> AsyncIterator[Callable[..., Any]]:
    """Start ``run()`` with the simulator's settings; waits until every server listens."""
    tasks: list[asyncio.Task[None]] = []
    stopping = asyncio.Event()

    async def start(**flags: bool) -> Running:
        settings = settings_for(simulator, grpc_port=0, shutdown_grace=1.0)
        ready: asyncio.Future[Service] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(run(settings, stopping=stopping, ready=ready.set_result, **flags))
        tasks.append(task)
        async with asyncio.timeout(30):
            await asyncio.wait([task, ready], return_when=asyncio.FIRST_COMPLETED)  # type: ignore[type-var]
        if task.done():
            task.result()  # start-up failed: show why
        return Running(task, ready.result())

    yield start
    stopping.set()
    for task in tasks:
        await task


async def test_rest_and_grpc_share_one_container(
    launch: Callable[..., Any], simulator: UpstreamSimulator
) -> None:
    running = await launch()
    base, grpc_port = f"http://127.0.0.1:{running.service.rest_port}", running.service.grpc_port

    async with aiohttp.ClientSession() as http, http.get(f"{base}/api/prices?symbols=BTC") as response:
        rest = await response.json()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        answer = await pb_grpc.MarketDataStub(channel).GetPrices(pb.GetPricesRequest(symbols=["BTC"]))

    assert answer.quotes[0].price == rest["data"][0]["price"]
    # gRPC was answered from the cache REST filled: one container, one cache.
    assert simulator.calls("coingecko") == 1


async def test_sigterm_stops_both_servers_gracefully(launch: Callable[..., Any]) -> None:
    running = await launch()
    target = f"127.0.0.1:{running.service.grpc_port}"
    async with grpc.aio.insecure_channel(target) as channel:
        stream = pb_grpc.MarketDataStub(channel).StreamPrices(pb.StreamPricesRequest(symbols=["BTC"]))
        await stream.read()

        os.kill(os.getpid(), signal.SIGTERM)  # the handler run() installed turns it into a shutdown
        async with asyncio.timeout(30):
            await running.task
            assert await stream.code() == grpc.StatusCode.OK  # the open stream ended cleanly

    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"http://127.0.0.1:{running.service.rest_port}/api/health")


async def test_grpc_only_serves_no_rest(launch: Callable[..., Any]) -> None:
    running = await launch(rest=False)

    assert running.service.rest_port is None
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.service.grpc_port}") as channel:
        assert (await pb_grpc.MarketDataStub(channel).GetHealth(pb.GetHealthRequest())).status == "healthy"


async def test_rest_only_serves_no_grpc(launch: Callable[..., Any]) -> None:
    running = await launch(grpc=False)

    assert running.service.grpc_port is None
    url = f"http://127.0.0.1:{running.service.rest_port}/api/health"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200


def _environment(simulator: UpstreamSimulator) -> dict[str, str]:
    """A minimal environment: nothing from the developer's shell (say CACHE_BACKEND=redis)
    leaks in, and every provider points at the loopback simulator."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT") if key in os.environ}
    env.update({f"{name.upper()}_BASE_URL": url for name, url in simulator.base_urls.items()})
    env.update({f"{name.upper()}_WS_URL": url for name, url in simulator.ws_urls.items()})
    env.update(
        LOG_FORMAT="json", LOG_LEVEL="INFO", SHUTDOWN_GRACE="1", CACHE_BACKEND="memory",
        PYTHONPATH=str(REPO_ROOT),
    )  # fmt: skip
    return env


async def _listening_port(stderr: asyncio.StreamReader, event: str) -> int:
    async for raw in stderr:
        line = raw.decode(errors="replace").strip()
        if line.startswith("{") and json.loads(line).get("event") == event:
            return int(json.loads(line)["port"])
    raise AssertionError(f"the process ended before logging {event!r}")


async def test_cli_serve_grpc_only_starts_and_stops(simulator: UpstreamSimulator, tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "entrypoints.cli", "serve", "--grpc-only", "--host", "127.0.0.1", "--grpc-port", "0",
        cwd=tmp_path,  # no .env is read from the repository
        env=_environment(simulator),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        async with asyncio.timeout(60):
            port = await _listening_port(process.stderr, "grpc listening")
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
            process.send_signal(signal.SIGTERM)
            rest_of_log = (await process.stderr.read()).decode()
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert code == 0
    events = [json.loads(line)["event"] for line in rest_of_log.splitlines() if line.startswith("{")]
    assert "stopped" in events
    assert "rest listening" not in rest_of_log


async def test_a_busy_grpc_port_fails_start_up_and_releases_rest(
    simulator: UpstreamSimulator, make_grpc: Callable[..., Any]
) -> None:
    taken = await make_grpc()
    service = Service(settings_for(simulator, grpc_port=taken.server.port, shutdown_grace=1.0))

    with pytest.raises(RuntimeError, match="bind"):
        await service.start()

    assert service.rest_port is not None  # REST had started before gRPC failed ...
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):  # ... and was stopped again
            await http.get(f"http://127.0.0.1:{service.rest_port}/api/health")
