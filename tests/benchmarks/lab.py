"""The bench every benchmark runs on: the upstream simulator, service processes wired to it,
redis-server and the bare baselines, all on 127.0.0.1, each its own process.

Services are started exactly as an operator would (``python -m entrypoints.cli serve``, the
``crypto-data-engine serve`` console script) from an empty directory (no ``.env`` is read)
with a minimal environment, so nothing from the developer's shell leaks in.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.benchmarks.loadgen import LoadResult, grpc_load, http_load, measure_cpu
from tests.benchmarks.processes import REPO_ROOT, Child, ProcessSet, free_port, wait_for_port

HUGE_LIMIT = "1000000000"
LONG_TTL = "86400"
SHARED = "service"

#: Settings every service of the suite runs with, and why they differ from the defaults.
BASE_SETTINGS: dict[str, tuple[str, str]] = {
    "HOST": ("127.0.0.1", "loopback only"),
    "*_BASE_URL": ("the simulator", "every provider is the loopback upstream simulator"),
    "COINCAP_API_KEY": ("bench-coincap-key", "CoinCap v3 needs a key, else the provider is disabled"),
    "LOG_LEVEL / LOG_FORMAT": (
        "INFO / json",
        "the production defaults, set so the shell cannot change them; service logs go to a file",
    ),
    "CACHE_TTL_PRICES / _OHLCV / _SENTIMENT / _MARKET": (
        LONG_TTL,
        "cached values outlive the run: no measurement includes a refill",
    ),
    "RATE_LIMIT_PRICES / _OHLCV / _SENTIMENT / _MARKET": (
        HUGE_LIMIT,
        "the limiter stays on (its cost is part of every request) but never answers 429 to the load generator",
    ),
    "MAX_CONNECTIONS_PER_CLIENT": (
        HUGE_LIMIT,
        "every load generator connection comes from 127.0.0.1: the cold burst opens 500 at once",
    ),
    "SHUTDOWN_GRACE": ("1", "quicker teardown between benchmarks"),
}


def _base_environment() -> dict[str, str]:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if key in os.environ}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class _PortTaken(Exception):
    """A service could not bind its port: something took it after it was picked."""


@dataclass
class HttpAnswer:
    """Status, headers and body of one request."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def request(port: int, method: str, path: str, body: Any = None, timeout: float = 30) -> HttpAnswer:
    """One HTTP request to 127.0.0.1:``port`` on a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return HttpAnswer(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


class KeepAlive:
    """One keep-alive connection for timing sequential requests (reconnects if dropped)."""

    def __init__(self, port: int, timeout: float = 60) -> None:
        self._port, self._timeout = port, timeout
        self._connection: http.client.HTTPConnection | None = None

    def get(self, path: str) -> HttpAnswer:
        """GET ``path``."""
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=self._timeout)
            try:
                self._connection.request("GET", path)
                response = self._connection.getresponse()
                return HttpAnswer(response.status, dict(response.getheaders()), response.read())
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass
class Server:
    """A server process under test (the service or a bare baseline)."""

    name: str
    child: Child
    rest_port: int | None = None
    grpc_port: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    overrides: dict[str, str] = field(default_factory=dict)

    def get(self, path: str) -> HttpAnswer:
        """GET ``path`` on its REST port."""
        assert self.rest_port is not None
        return request(self.rest_port, "GET", path)

    def url(self, path: str) -> str:
        """``http://127.0.0.1:PORT/path``."""
        return f"http://127.0.0.1:{self.rest_port}{path}"

    @property
    def grpc_target(self) -> str:
        """``127.0.0.1:PORT`` of its gRPC server."""
        return f"127.0.0.1:{self.grpc_port}"


class Lab:
    """Starts what the benchmarks need, once, and remembers it for cleanup."""

    def __init__(self, processes: ProcessSet, workdir: Path, tool: str) -> None:
        self.processes = processes
        self.workdir = workdir
        self.tool = tool
        self._simulator: Server | None = None
        self._base_urls: dict[str, str] = {}
        self._ws_urls: dict[str, str] = {}
        self._services: dict[str, Server] = {}
        self._redis: Server | None = None
        #: Seconds between the simulator's live WebSocket frames (``--stream-cadence``; None: its default).
        self.stream_cadence: float | None = None

    # -- the upstream simulator -----------------------------------------------------------

    @property
    def simulator(self) -> Server:
        """The upstream simulator (started on first use)."""
        if self._simulator is None:
            port = free_port()
            argv = [sys.executable, "-m", "simulator", "--host", "127.0.0.1", "--port", str(port)]
            if self.stream_cadence is not None:
                argv += ["--stream-cadence", f"{self.stream_cadence:g}"]
            child = self.processes.spawn(
                "simulator",
                argv,
                env=_base_environment(),
                cwd=self.workdir,
            )
            wait_for_port(port, 60, child.process)
            self._simulator = Server("simulator", child, rest_port=port)
            urls = request(port, "GET", "/__sim").json()
            self._base_urls, self._ws_urls = urls["base_urls"], urls["ws_urls"]
        return self._simulator

    def sim_calls(self) -> dict[str, int]:
        """Upstream calls per provider so far."""
        return dict(request(self.simulator.rest_port or 0, "GET", "/__sim/calls").json())

    def sim_fault(self, **spec: Any) -> None:
        """Set a fault on the simulator."""
        answer = request(self.simulator.rest_port or 0, "POST", "/__sim/faults", spec)
        if answer.status != 201:
            raise RuntimeError(f"simulator refused the fault {spec}: {answer.body!r}")

    def sim_clear_faults(self) -> None:
        """Remove every fault."""
        request(self.simulator.rest_port or 0, "DELETE", "/__sim/faults")

    def sim_streams(self) -> dict[str, dict[str, Any]]:
        """The simulator's WebSocket side per provider: connections opened and open now, the
        subscriptions of the open ones."""
        return dict(request(self.simulator.rest_port or 0, "GET", "/__sim/streams").json())

    # -- services -------------------------------------------------------------------------

    def service_environment(self, **overrides: str) -> dict[str, str]:
        """The environment of a service process: the suite's settings plus ``overrides``."""
        self.simulator  # noqa: B018 - the base URLs come from it
        env = _base_environment()
        env.update({f"{name.upper()}_BASE_URL": url for name, url in self._base_urls.items()})
        env.update({f"{name.upper()}_WS_URL": url for name, url in self._ws_urls.items()})
        env.update(
            HOST="127.0.0.1",
            LOG_LEVEL="INFO",
            LOG_FORMAT="json",
            CACHE_BACKEND="memory",
            COINCAP_API_KEY="bench-coincap-key",
            SHUTDOWN_GRACE="1",
            MAX_CONNECTIONS_PER_CLIENT=HUGE_LIMIT,
        )
        for kind in ("PRICES", "OHLCV", "SENTIMENT", "MARKET"):
            env[f"CACHE_TTL_{kind}"] = LONG_TTL
            env[f"RATE_LIMIT_{kind}"] = HUGE_LIMIT
        env.update(overrides)
        return env

    def spawn_service(
        self, name: str, workers: int = 1, *, profile_to: Path | None = None, **overrides: str
    ) -> Server:
        """Start ``serve --workers N`` (REST and gRPC on fixed free ports) unless a service of
        that name is already running (started ahead); returns it, maybe not ready yet."""
        existing = self._services.get(name)
        if existing is not None and existing.child.process.poll() is None:
            return existing
        rest_port, grpc_port = free_port(), free_port()
        env = self.service_environment(PORT=str(rest_port), GRPC_PORT=str(grpc_port), **overrides)
        argv = [sys.executable, "-m", "entrypoints.cli", "serve", "--workers", str(workers)]
        if profile_to is not None:  # the whole service under cProfile (tests.benchmarks.profiling)
            argv[1:1] = ["-m", "cProfile", "-o", str(profile_to)]
        child = self.processes.spawn(name, argv, env=env, cwd=self.workdir)
        server = Server(name, child, rest_port, grpc_port, env, workers, dict(overrides))
        self._services[name] = server
        return server

    def wait_ready(self, server: Server, timeout: float = 90) -> Server:
        """Until ``/api/health`` answers and the gRPC port accepts connections; a service
        that lost a port to another process is started again on new ports (at most twice)."""
        for attempt in (1, 2, 3):
            try:
                return self._wait_ready(server, timeout)
            except _PortTaken:
                if attempt == 3:
                    raise
                self.stop(server)
                server = self.spawn_service(server.name, server.workers, profile_to=None, **server.overrides)
        raise AssertionError("unreachable")

    def _wait_ready(self, server: Server, timeout: float) -> Server:
        deadline = time.monotonic() + timeout
        assert server.rest_port is not None and server.grpc_port is not None
        while True:
            if server.child.process.poll() is not None:
                tail = server.child.log_tail(40).lower()
                if "address already in use" in tail or "could not listen" in tail:
                    raise _PortTaken(server.name)
                raise RuntimeError(
                    f"{server.name} exited ({server.child.process.returncode}):\n{server.child.log_tail()}"
                )
            try:
                if server.get("/api/health").status in (200, 503):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{server.name} not ready after {timeout} s:\n{server.child.log_tail()}")
            time.sleep(0.05)
        wait_for_port(server.grpc_port, max(1.0, deadline - time.monotonic()), server.child.process)
        return server

    def start_service(self, name: str, workers: int = 1, **overrides: str) -> Server:
        """Start a service and wait until it is ready."""
        return self.wait_ready(self.spawn_service(name, workers, profile_to=None, **overrides))

    @property
    def shared_service(self) -> Server:
        """The memory-backend service (``--workers 1``) the cached benchmarks share."""
        return self.start_service(SHARED)

    def stop(self, server: Server) -> None:
        """Stop a server started here."""
        self.processes.stop(server.child)
        if self._services.get(server.name) is server:
            del self._services[server.name]

    # -- redis ------------------------------------------------------------------------------

    @property
    def redis_pid(self) -> int | None:
        """The pid of the suite's redis-server, once started."""
        return None if self._redis is None else self._redis.child.pid

    def redis_url(self, binary: str) -> str:
        """A fresh redis-server without persistence on a free loopback port (once)."""
        if self._redis is None:
            port = free_port()
            child = self.processes.spawn(
                "redis",
                [
                    binary,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--protected-mode",
                    "yes",
                ],
                cwd=self.workdir,
            )
            wait_for_port(port, 30, child.process)
            self._redis = Server("redis", child, rest_port=port)
        return f"redis://127.0.0.1:{self._redis.rest_port}/0"

    # -- bare baselines ---------------------------------------------------------------------

    def start_bare_http(self, routes: dict[str, bytes]) -> Server:
        """The bare aiohttp server answering each path with its bytes."""
        port = free_port()
        argv = [sys.executable, "-m", "tests.benchmarks.bare_http", "--port", str(port)]
        for index, (path, body) in enumerate(routes.items()):
            file = self.workdir / f"bare-http-{index}.body"
            file.write_bytes(body)
            argv += ["--route", f"{path}={file}"]
        child = self.processes.spawn("bare-http", argv, env=_base_environment(), cwd=REPO_ROOT)
        wait_for_port(port, 60, child.process)
        return Server("bare aiohttp", child, rest_port=port)

    def start_bare_grpc(self, answers: dict[str, bytes]) -> Server:
        """The bare grpc.aio server answering each method with its bytes."""
        port = free_port()
        argv = [sys.executable, "-m", "tests.benchmarks.bare_grpc", "--port", str(port)]
        for name, answer in answers.items():
            file = self.workdir / f"bare-grpc-{name}.bin"
            file.write_bytes(answer)
            argv += ["--method", f"{name}={file}"]
        child = self.processes.spawn("bare-grpc", argv, env=_base_environment(), cwd=REPO_ROOT)
        wait_for_port(port, 60, child.process)
        return Server("bare grpc.aio", child, grpc_port=port)

    # -- load -------------------------------------------------------------------------------

    def http(
        self, server: Server, path: str, duration: float, connections: int, threads: int = 1
    ) -> LoadResult:
        """HTTP load on ``server`` with its CPU use measured."""
        pids = server.child.tree()
        return measure_cpu(
            pids,
            lambda: http_load(
                self.processes, self.tool, server.url(path), duration, connections, threads, pids
            ),
        )

    def grpc(
        self, server: Server, method: str, payload: bytes, duration: float, concurrency: int, clients: int
    ) -> LoadResult:
        """gRPC load on ``server`` with its CPU use measured."""
        pids = server.child.tree()
        target = server.grpc_target
        return measure_cpu(
            pids,
            lambda: grpc_load(self.processes, target, method, payload, duration, concurrency, clients, pids),
        )
