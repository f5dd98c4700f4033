"""API keys and tokens never appear in the logs; every request's lines carry its request id.

The real command (``crypto-data-engine serve``) runs with distinctive secrets against the
simulator, is driven through requests that log (admin calls with no, a wrong and the right
token, every provider failing: a rejected API key, a rate limit, a geo-block, 5xx, HTML;
a secret in a URL path; gRPC), and ALL it writes to stderr is checked, in both formats.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import grpc
import pytest

from protos.cryptodata.v1 import market_data_pb2 as pb
from protos.cryptodata.v1 import market_data_pb2_grpc as pb_grpc
from simulator import UpstreamSimulator
from tests.redis_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN = "adm-sEcReT-tok-5Kq2w"
GECKO = "CG-sEcReT-gecko-7Hd3x"
CAP = "cc-sEcReT-cap-9Lm4y"
REDIS_PASSWORD = "rds-sEcReT-pw-2Xv8z"
WRONG = "wrong-sEcReT-guess-3Rt6"  # a client's wrong guess is no business of the logs either
SECRETS = (ADMIN, GECKO, CAP, REDIS_PASSWORD, WRONG)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _command() -> list[str]:
    script = Path(sys.executable).with_name("crypto-data-engine")
    return [str(script)] if script.exists() else [sys.executable, "-m", "entrypoints.cli"]


def _environment(**values: str) -> dict[str, str]:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(PYTHONPATH=str(REPO_ROOT), **values)
    return env


def assert_no_secret(text: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text or secret.split("-sEcReT-")[1] in text]
    assert not leaked, f"leaked {leaked}"


@dataclass
class Served:
    """The running command, its ports and every line it wrote to stderr."""

    process: asyncio.subprocess.Process
    rest: int
    grpc: int
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return ANSI.sub("", "\n".join(self.lines))


@pytest.fixture
async def simulator_rejecting_our_key() -> AsyncIterator[UpstreamSimulator]:
    """CoinCap accepts only another key than ours: it answers 401."""
    async with UpstreamSimulator(coincap_api_key="the-only-key-coincap-accepts") as sim:
        yield sim


@contextlib.asynccontextmanager
async def _serve(sim: UpstreamSimulator, tmp_path: Path, fmt: str, **settings: str) -> AsyncIterator[Served]:
    rest, grpc_port = free_port(), free_port()
    env = _environment(
        **{f"{name.upper()}_BASE_URL": url for name, url in sim.base_urls.items()},
        **{f"{name.upper()}_WS_URL": url for name, url in sim.ws_urls.items()},
        HOST="127.0.0.1", PORT=str(rest), GRPC_PORT=str(grpc_port), LOG_FORMAT=fmt, LOG_LEVEL="INFO",
        SHUTDOWN_GRACE="1", ADMIN_TOKEN=ADMIN, COINGECKO_API_KEY=GECKO, COINCAP_API_KEY=CAP,
        CIRCUIT_BREAKER_THRESHOLD="1", **settings,
    )  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *_command(), "serve", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    served = Served(process, rest, grpc_port)

    async def collect() -> None:
        assert process.stderr is not None
        async for raw in process.stderr:
            served.lines.append(raw.decode(errors="replace").rstrip("\n"))

    collector = asyncio.create_task(collect())
    try:
        async with asyncio.timeout(60), aiohttp.ClientSession() as http:
            while True:  # until it answers
                assert process.returncode is None, served.output
                try:
                    async with http.get(f"http://127.0.0.1:{rest}/api/health"):
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        yield served
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            assert await process.wait() == 0
            await collector
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        collector.cancel()


async def _drive(served: Served, sim: UpstreamSimulator) -> list[str]:
    """Requests that log, with every provider failing; returns the response bodies."""
    sim.set_fault("binance", "geo_451", path="/api/v3/klines")
    sim.set_fault("binance", "http_500", path="/api/v3/ticker/24hr")
    sim.set_fault("kraken", "http_503")
    sim.set_fault("coingecko", "rate_limit", retry_after=30)
    sim.set_fault("alternative_me", "html")
    base = f"http://127.0.0.1:{served.rest}"
    bodies = []
    calls = [
        ("GET", "/api/health", {"X-Request-ID": "trace-health-1"}),
        ("POST", "/api/cache/clear", {}),
        ("POST", "/api/cache/clear", {"Authorization": f"Bearer {WRONG}"}),
        ("POST", "/api/cache/clear", {"Authorization": f"Bearer {ADMIN}", "X-Request-ID": "trace-admin-ok"}),
        ("GET", "/api/prices?symbols=BTC,ETH", {}),
        ("GET", f"/api/ohlcv?symbol=BTC&interval=1h&apiKey={CAP}", {"Authorization": f"Bearer {CAP}"}),
        ("GET", "/api/sentiment", {}),
        ("GET", "/api/market/overview", {}),
        ("GET", f"/api/{ADMIN}", {"X-Request-ID": "trace-secret-path"}),  # the path is logged
        ("GET", "/api/health", {}),
    ]
    async with aiohttp.ClientSession() as http:
        for method, path, headers in calls:
            async with http.request(method, base + path, headers=headers) as response:
                bodies.append(f"{response.status} {await response.text()}")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{served.grpc}") as channel:
        stub = pb_grpc.MarketDataStub(channel)
        metadata = (("x-request-id", "trace-grpc-1"), ("authorization", f"Bearer {WRONG}"))
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await stub.GetPrices(pb.GetPricesRequest(symbols=["BTC"]), metadata=metadata, timeout=10)
        bodies.append(f"{failed.value.code()} {failed.value.details()} {failed.value.trailing_metadata()}")
    return bodies


def _check_requests_reached_upstream_with_our_keys(sim: UpstreamSimulator, bodies: list[str]) -> None:
    """The secrets were in use (so their absence from the logs means something)."""
    gecko = [r for r in sim.requests if r.provider == "coingecko"]
    cap = [r for r in sim.requests if r.provider == "coincap"]
    assert gecko and all(r.headers.get("x-cg-demo-api-key") == GECKO for r in gecko)
    assert cap and all(r.headers.get("Authorization") == f"Bearer {CAP}" for r in cap)
    statuses = [int(body.split()[0]) for body in bodies[:-1]]
    assert statuses == [200, 401, 403, 200, 503, 503, 503, 503, 404, 503]  # the last: nothing can be served
    assert "refused our API key (401)" in bodies[4]
    assert bodies[-1].startswith("StatusCode.UNAVAILABLE")
    assert_no_secret("\n".join(bodies))  # nor in what clients see


@pytest.mark.parametrize("fmt", ["json", "console"])
async def test_no_secret_in_any_log_line_and_a_request_id_on_every_request_line(
    fmt: str, simulator_rejecting_our_key: UpstreamSimulator, tmp_path: Path
) -> None:
    sim = simulator_rejecting_our_key
    extra = {}
    if fmt == "console":  # and Redis configured with a password, but down: its outage is logged
        extra = {
            "CACHE_BACKEND": "redis",
            "REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:{free_port()}/0",
        }
    async with _serve(sim, tmp_path, fmt, **extra) as served:
        bodies = await _drive(served, sim)

    _check_requests_reached_upstream_with_our_keys(sim, bodies)
    output = served.output
    assert_no_secret(output)
    assert f"/api/{ADMIN}" not in output and "/api/[REDACTED]" in output  # the safety net at work
    if fmt == "json":
        records = [json.loads(line) for line in served.lines if line.strip()]  # every line is JSON
        request_lines = [r for r in records if r.get("logger") in ("access", "errors")]
        assert len([r for r in request_lines if r["event"] == "request"]) == 11  # with the readiness probe
        assert next(r for r in request_lines if r["event"] == "rpc")["request_id"] == "trace-grpc-1"
        assert all(r.get("request_id") for r in request_lines)
        ids = {(r["path"], r["request_id"]) for r in request_lines if r["event"] == "request"}
        assert {("/api/[REDACTED]", "trace-secret-path"), ("/api/health", "trace-health-1"),
                ("/api/cache/clear", "trace-admin-ok")} <= ids  # fmt: skip
    else:
        lines = [line for line in output.splitlines() if line.strip()]
        assert not any(line.startswith("{") for line in lines)  # readable, not JSON
        request_lines = [line for line in lines if "[access" in line or "[errors" in line]
        assert len(request_lines) == 12  # 10 driven, the readiness probe and the RPC
        assert all(re.search(r"request_id=\S+", line) for line in request_lines)
        assert "request_id=trace-grpc-1" in output and "request_id=trace-secret-path" in output
        assert "shared backend unavailable" in output


async def _refusal(cwd: Path, **settings: str) -> str:
    env = _environment(ADMIN_TOKEN=ADMIN, COINGECKO_API_KEY=GECKO, COINCAP_API_KEY=CAP, **settings)
    process = await asyncio.create_subprocess_exec(
        *_command(), "serve", cwd=cwd, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    return stderr.decode()


async def test_invalid_settings_are_refused_without_echoing_a_secret(tmp_path: Path) -> None:
    output = await _refusal(
        tmp_path, PORT="not-a-port", LOG_FORMAT="yaml", REDIS_URL=f"redis://:{REDIS_PASSWORD}@x:1/0"
    )
    assert output.startswith("invalid settings:") and "PORT" in output and "LOG_FORMAT" in output
    assert_no_secret(output)

    # a key put into a base URL (CoinCap documents ?apiKey=), and the URL refused: masked
    output = await _refusal(tmp_path, COINCAP_BASE_URL=f"rest.coincap.io/v3?apiKey={CAP}")
    assert "COINCAP_BASE_URL must be an http(s) URL" in output and "apiKey=[REDACTED]" in output
    assert_no_secret(output)
