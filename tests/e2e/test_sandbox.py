"""Sandbox mode (``serve --sandbox``): the whole service against the built-in upstream simulator.

Real adapters over real HTTP on loopback, deterministic data from one seed, and every answer
marked as simulated: ``X-Data-Mode: sandbox`` and ``"sandbox": true`` on REST, the
``x-data-mode`` metadata on gRPC. Outside sandbox mode nothing is marked.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from entrypoints.rest import schemas
from entrypoints.sandbox import sandboxed
from entrypoints.serve import Service
from entrypoints.settings import Settings
from protos.cryptodata.v1 import market_data_pb2 as pb
from protos.cryptodata.v1 import market_data_pb2_grpc as pb_grpc
from simulator import UpstreamSimulator
from tests.conftest import ADMIN_TOKEN, settings_for
from tests.redis_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
HEADER = "X-Data-Mode"
PROVIDERS = ("binance", "kraken", "coingecko", "coincap", "alternative_me")
CANDLES = "/api/ohlcv?symbol=ETH&interval=1h&limit=48"

StartService = Callable[[Settings], Awaitable[Service]]


def sandbox_settings(**overrides: Any) -> Settings:
    """Sandbox settings on free loopback ports; no .env file is read."""
    values: dict[str, Any] = {
        "sandbox": True, "host": "127.0.0.1", "port": 0, "grpc_port": 0,
        "shutdown_grace": 1.0, "request_timeout": 2.0, "admin_token": ADMIN_TOKEN,
    }  # fmt: skip
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def start_service() -> AsyncIterator[StartService]:
    """Start ``Service``s (REST and gRPC in this event loop); all are stopped after the test."""
    started: list[Service] = []

    async def start(settings: Settings) -> Service:
        service = Service(settings)
        started.append(service)
        await service.start()
        return service

    yield start
    for service in reversed(started):
        await service.stop()


@pytest.fixture
async def sandbox(start_service: StartService) -> Service:
    """The service in sandbox mode with the default seed."""
    return await start_service(sandbox_settings())


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def fetch(
    http: aiohttp.ClientSession, port: int | None, path: str, method: str = "GET"
) -> tuple[int, str | None, Any]:
    """Status, the X-Data-Mode header and the JSON body (None when not JSON) of one request."""
    async with http.request(method, f"http://127.0.0.1:{port}{path}") as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, response.headers.get(HEADER), body


def closed_candles(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The closed candles of an /api/ohlcv answer by open time (the newest is in progress)."""
    return {candle["timestamp"]: candle for candle in body["data"][:-1]}


def assert_same_candles(first: dict[str, Any], second: dict[str, Any]) -> None:
    a, b = closed_candles(first), closed_candles(second)
    common = a.keys() & b.keys()
    assert len(common) >= 40  # an hour may turn between the two requests, not more
    assert [a[t] for t in sorted(common)] == [b[t] for t in sorted(common)]


# -- REST --------------------------------------------------------------------------------------


async def test_data_endpoints_answer_from_the_simulator_marked_as_sandbox(
    sandbox: Service, http: aiohttp.ClientSession
) -> None:
    cases: list[tuple[str, type[schemas.ApiModel]]] = [
        ("/api/ohlcv?symbol=BTC&interval=1h&limit=5", schemas.OhlcvResponse),
        ("/api/prices?symbols=BTC,ETH,SOL", schemas.PricesResponse),
        ("/api/sentiment", schemas.SentimentResponse),
        ("/api/market/overview", schemas.MarketOverviewResponse),
        ("/api/cache/stats", schemas.CacheStatsResponse),
    ]
    bodies = {}
    for path, model in cases:
        status, header, body = await fetch(http, sandbox.rest_port, path)
        assert (status, header, body["sandbox"]) == (200, "sandbox", True), path
        # The mark is a documented field: the body validates against the model the OpenAPI
        # document is generated from (extra fields are forbidden there).
        assert model.model_validate(body).body().keys() >= body.keys(), path
        bodies[path] = body

    ohlcv = bodies["/api/ohlcv?symbol=BTC&interval=1h&limit=5"]
    assert (ohlcv["source"], ohlcv["count"], ohlcv["symbol"]) == ("binance", 5, "BTCUSDT")
    # All three price providers contributed: CoinCap's placeholder key made it live.
    assert bodies["/api/prices?symbols=BTC,ETH,SOL"]["source"] == "coingecko+coincap+binance"
    assert sandbox.simulator is not None
    assert sandbox.simulator.calls("coincap") == 1
    assert sandbox.settings.coincap_base_url.startswith(sandbox.simulator.root)


async def test_health_says_sandbox_and_every_provider_is_live(
    sandbox: Service, http: aiohttp.ClientSession
) -> None:
    await fetch(http, sandbox.rest_port, "/api/prices?symbols=BTC")
    status, header, health = await fetch(http, sandbox.rest_port, "/api/health")

    assert (status, header) == (200, "sandbox")
    assert (health["sandbox"], health["mode"], health["status"]) == (True, "sandbox", "healthy")
    assert schemas.HealthResponse.model_validate(health).body().keys() >= health.keys()
    providers = {p["name"]: p["status"] for p in health["providers"]}
    assert set(providers) == set(PROVIDERS)
    assert "disabled" not in providers.values()


async def test_every_kind_of_answer_is_marked(
    start_service: StartService, http: aiohttp.ClientSession
) -> None:
    service = await start_service(sandbox_settings(rate_limit_sentiment=1))
    port = service.rest_port
    errors = [
        ("GET", "/api/ohlcv?symbol=NOPE", 400, "INVALID_SYMBOL"),
        ("GET", "/api/ohlcv?symbol=BTC&limit=0", 400, "INVALID_PARAMETER"),
        ("GET", "/api/nowhere", 404, "NOT_FOUND"),
        ("POST", "/api/cache/clear", 401, "UNAUTHORIZED"),
        ("GET", "/api/sentiment", 200, None),
        ("GET", "/api/sentiment", 429, "RATE_LIMITED"),  # made by another middleware than the rest
    ]
    for method, path, expected, code in errors:
        status, header, body = await fetch(http, port, path, method)
        assert (status, header, body["sandbox"]) == (expected, "sandbox", True), path
        if code is not None:
            assert body["error"]["code"] == code
            assert schemas.ErrorResponse.model_validate(body).body().keys() >= body.keys()

    status, header, document = await fetch(http, port, "/openapi.json")
    assert (status, header) == (200, "sandbox")
    assert "sandbox" not in document  # the document itself is not an API answer ...
    error_schema = document["components"]["schemas"]["ErrorResponse"]
    assert "sandbox" in error_schema["properties"]  # ... but it documents the mark
    assert "sandbox" not in error_schema.get("required", [])
    assert "mode" in document["components"]["schemas"]["HealthResponse"]["properties"]
    for page in ("/docs", "/redoc", "/docs/static/swagger-ui/LICENSE"):
        status, header, _ = await fetch(http, port, page)
        assert (status, header) == (200, "sandbox"), page

    # A browser app on another origin can read the mark: CORS exposes it.
    headers = {"Origin": "https://dreammaker.example"}
    async with http.get(f"http://127.0.0.1:{port}/api/health", headers=headers) as response:
        exposed = [name.strip() for name in response.headers["Access-Control-Expose-Headers"].split(",")]
    assert HEADER in exposed and "X-Request-ID" in exposed


async def test_provider_urls_and_redis_from_the_environment_are_never_used(
    start_service: StartService,
    http: aiohttp.ClientSession,
    simulator: UpstreamSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ``simulator`` plays the real providers here: sandbox mode must never call it.
    for provider, url in simulator.base_urls.items():
        monkeypatch.setenv(f"{provider.upper()}_BASE_URL", url)
    monkeypatch.setenv("CACHE_BACKEND", "redis")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    monkeypatch.setenv("COINGECKO_API_KEY", "real-secret-key")
    settings = sandbox_settings()
    assert settings.binance_base_url == simulator.base_urls["binance"]  # the environment was read

    service = await start_service(settings)
    for path in ("/api/ohlcv?symbol=BTC", "/api/prices", "/api/sentiment", "/api/market/overview"):
        status, _, _ = await fetch(http, service.rest_port, path)
        assert status == 200, path
    _, _, health = await fetch(http, service.rest_port, "/api/health")

    assert sum(simulator.call_counts().values()) == 0
    assert service.simulator is not None
    assert sum(service.simulator.call_counts().values()) >= 5
    assert health["cache"]["backend"] == "memory"
    sent = [value for request in service.simulator.requests for value in request.headers.values()]
    assert not any("real-secret-key" in value for value in sent)  # nor shown on /__sim/requests


async def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(
    start_service: StartService, http: aiohttp.ClientSession
) -> None:
    bodies = []
    for seed in (7, 7, 8):
        service = await start_service(sandbox_settings(sandbox_seed=seed))
        status, _, body = await fetch(http, service.rest_port, CANDLES)
        assert status == 200
        bodies.append(body)
        await service.stop()

    assert_same_candles(bodies[0], bodies[1])
    assert closed_candles(bodies[0]).values() != closed_candles(bodies[2]).values()
    shared = closed_candles(bodies[0]).keys() & closed_candles(bodies[2]).keys()
    assert all(closed_candles(bodies[0])[t] != closed_candles(bodies[2])[t] for t in shared)


def test_a_sandbox_upstream_off_loopback_is_refused() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    urls = {provider: f"http://127.0.0.1:9100/{provider}" for provider in PROVIDERS}
    assert sandboxed(settings, urls).kraken_base_url == "http://127.0.0.1:9100/kraken"
    assert sandboxed(settings, urls).kraken_ws_url == "ws://127.0.0.1:9100/kraken/v2"
    assert sandboxed(settings, urls).binance_ws_url == "ws://127.0.0.1:9100/binance"  # + /stream
    with pytest.raises(ValueError, match="loopback"):
        sandboxed(settings, {**urls, "binance": "https://api.binance.com"})
    with pytest.raises(KeyError):
        sandboxed(settings, {provider: urls[provider] for provider in PROVIDERS[:-1]})


async def test_sandbox_streams_come_from_the_simulators_websocket_side_on_its_own_cadence(
    sandbox: Service, http: aiohttp.ClientSession
) -> None:
    simulator = sandbox.simulator
    assert simulator is not None
    settings = sandbox.settings
    assert (settings.binance_ws_url, settings.kraken_ws_url) == (
        simulator.ws_urls["binance"],
        simulator.ws_urls["kraken"],
    )
    async with http.ws_connect(settings.binance_ws_url + "/stream?streams=btcusdt@miniTicker") as ws:
        frame = await ws.receive(timeout=3)  # nobody pushes: the sandbox's cadence does
    assert json.loads(frame.data)["data"]["e"] == "24hrMiniTicker"


# -- gRPC --------------------------------------------------------------------------------------


async def test_every_grpc_call_carries_the_sandbox_metadata(sandbox: Service) -> None:
    mark = ("x-data-mode", "sandbox")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{sandbox.grpc_port}") as channel:
        stub = pb_grpc.MarketDataStub(channel)
        call = stub.GetOhlcv(pb.GetOhlcvRequest(symbol="BTC", interval="1h", limit=3))
        ohlcv = await call
        assert mark in tuple(await call.initial_metadata())
        assert (len(ohlcv.candles), ohlcv.source) == (3, "binance")

        call = stub.GetHealth(pb.GetHealthRequest())
        assert (await call).sandbox is True
        assert mark in tuple(await call.initial_metadata())

        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await stub.GetOhlcv(pb.GetOhlcvRequest(symbol="NOPE"))
        assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert mark in tuple(failed.value.initial_metadata())
        assert mark in tuple(failed.value.trailing_metadata())

        stream = stub.StreamPrices(pb.StreamPricesRequest(symbols=["BTC"]))
        assert (await stream.read()).quotes[0].symbol == "BTC"
        assert mark in tuple(await stream.initial_metadata())
        stream.cancel()

        # The standard services, which have no edge of their own, are marked too.
        check = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert (await check).status == health_pb2.HealthCheckResponse.SERVING
        assert mark in tuple(await check.initial_metadata())
        reflect = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo()
        await reflect.write(reflection_pb2.ServerReflectionRequest(list_services=""))
        listed = await reflect.read()
        await reflect.done_writing()
        assert "cryptodata.v1.MarketData" in {s.name for s in listed.list_services_response.service}
        assert mark in tuple(await reflect.initial_metadata())


# -- production: nothing is marked ----------------------------------------------------------------


async def test_outside_sandbox_mode_nothing_is_marked(
    start_service: StartService, http: aiohttp.ClientSession, simulator: UpstreamSimulator
) -> None:
    service = await start_service(settings_for(simulator, grpc_port=0, shutdown_grace=1.0))
    assert service.simulator is None
    for path in ("/api/ohlcv?symbol=BTC&limit=2", "/api/health", "/api/ohlcv?symbol=NOPE", "/api/nowhere"):
        _, header, body = await fetch(http, service.rest_port, path)
        assert header is None, path
        assert "sandbox" not in body and "mode" not in body, path
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.grpc_port}") as channel:
        call = pb_grpc.MarketDataStub(channel).GetHealth(pb.GetHealthRequest())
        assert (await call).sandbox is False
        assert "x-data-mode" not in dict(await call.initial_metadata())
        check = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        await check
        assert "x-data-mode" not in dict(await check.initial_metadata())


# -- the command line ----------------------------------------------------------------------------


class Log:
    """Drains a child's JSON log lines from stderr (so it never blocks on a full pipe)."""

    def __init__(self, stderr: asyncio.StreamReader) -> None:
        self.records: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._ended = False
        self._task = asyncio.create_task(self._drain(stderr))

    async def _drain(self, stderr: asyncio.StreamReader) -> None:
        async for raw in stderr:
            line = raw.decode(errors="replace").strip()
            if line.startswith("{"):
                async with self._changed:
                    self.records.append(json.loads(line))
                    self._changed.notify_all()
        async with self._changed:
            self._ended = True
            self._changed.notify_all()

    async def wait_for(self, event: str) -> dict[str, Any]:
        """The first record whose event starts with ``event``."""
        async with self._changed:
            while True:
                for record in self.records:
                    if str(record.get("event", "")).startswith(event):
                        return record
                if self._ended:
                    raise AssertionError(f"the process ended before logging {event!r}")
                await self._changed.wait()

    async def close(self) -> None:
        await self._task


def _environment(simulator: UpstreamSimulator) -> dict[str, str]:
    """A minimal environment whose provider URLs point at ``simulator``: the real providers,
    as far as the child knows, which sandbox mode must never call."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT") if key in os.environ}
    env.update({f"{name.upper()}_BASE_URL": url for name, url in simulator.base_urls.items()})
    env.update({f"{name.upper()}_WS_URL": url for name, url in simulator.ws_urls.items()})
    env.update(LOG_FORMAT="json", LOG_LEVEL="INFO", SHUTDOWN_GRACE="1", PYTHONPATH=str(REPO_ROOT))
    return env


async def _serve(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[asyncio.subprocess.Process, Log]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "entrypoints.cli", "serve", "--sandbox", "--host", "127.0.0.1", *args,
        cwd=tmp_path,  # no .env is read from the repository
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    return process, Log(process.stderr)


async def _stop(process: asyncio.subprocess.Process, log: Log) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        async with asyncio.timeout(30):
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    await log.close()
    return code


async def test_cli_serve_sandbox_serves_marked_deterministic_data_offline(
    simulator: UpstreamSimulator,
    start_service: StartService,
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    process, log = await _serve(tmp_path, _environment(simulator), "--port", "0", "--grpc-port", "0")
    try:
        async with asyncio.timeout(60):
            warning = await log.wait_for("SANDBOX MODE")
            port = int((await log.wait_for("rest listening"))["port"])
            grpc_port = int((await log.wait_for("grpc listening"))["port"])
            answers = {}
            for path in (CANDLES, "/api/prices?symbols=BTC,ETH", "/api/health"):
                status, header, body = await fetch(http, port, path)
                assert (status, header, body["sandbox"]) == (200, "sandbox", True), path
                answers[path] = body
            async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
                call = pb_grpc.MarketDataStub(channel).GetPrices(pb.GetPricesRequest(symbols=["BTC"]))
                await call
                assert ("x-data-mode", "sandbox") in tuple(await call.initial_metadata())
    finally:
        code = await _stop(process, log)

    assert code == 0
    assert warning["level"] == "warning" and warning["seed"] == 7
    assert answers["/api/health"]["mode"] == "sandbox"
    assert sum(simulator.call_counts().values()) == 0  # the configured "real" providers: never called
    # Another process, the same seed: the same market.
    in_process = await start_service(sandbox_settings())
    _, _, body = await fetch(http, in_process.rest_port, CANDLES)
    assert_same_candles(answers[CANDLES], body)


async def test_cli_sandbox_workers_share_one_simulated_upstream(
    simulator: UpstreamSimulator, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    port = free_port()
    env = {**_environment(simulator), "LOG_LEVEL": "WARNING"}
    process, log = await _serve(tmp_path, env, "--workers", "2", "--rest-only", "--port", str(port),
                                "--sandbox-seed", "11")  # fmt: skip
    try:
        async with asyncio.timeout(90):
            upstream = (await log.wait_for("sandbox mode: every worker"))["upstream"]
            pids: set[int] = set()
            while len(pids) < 2:  # until both workers answer (a new connection each time)
                try:
                    async with aiohttp.ClientSession(
                        connector=aiohttp.TCPConnector(force_close=True)
                    ) as fresh:
                        _, header, health = await fetch(fresh, port, "/api/health")
                    assert header == "sandbox"
                    pids.add(health["pid"])
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.2)
            # One market for every worker: a price set on the supervisor's simulator reaches all.
            async with http.post(f"{upstream}/__sim/prices", json={"BTC": 12_345}) as response:
                assert response.status == 200
            prices = set()
            for _ in range(12):
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as fresh:
                    _, header, body = await fetch(fresh, port, "/api/prices?symbols=BTC")
                assert header == "sandbox" and body["sandbox"] is True
                prices.add(body["data"][0]["price"])
    finally:
        code = await _stop(process, log)

    assert code == 0
    assert all(abs(price - 12_345) <= 12_345 * 0.0003 for price in prices)  # the venues' spread
    assert sum(simulator.call_counts().values()) == 0
    seeds = [record["seed"] for record in log.records if str(record.get("event", "")).startswith("SANDBOX")]
    assert seeds == [11, 11]  # every worker announced the sandbox, with the seed given


async def test_sandbox_seed_needs_sandbox(tmp_path: Path, simulator: UpstreamSimulator) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "entrypoints.cli", "serve", "--sandbox-seed", "3", "--port", "0",
        cwd=tmp_path, env=_environment(simulator), stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert b"--sandbox-seed needs --sandbox" in stderr
