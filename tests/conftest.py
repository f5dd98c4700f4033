"""Fixtures shared by every suite: the upstream simulator and a service wired to it."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from domain.ports import Clock
from entrypoints.settings import Settings
from simulator import UpstreamSimulator

ADMIN_TOKEN = "test-admin-token"
COINCAP_KEY = "test-coincap-key"


def configure_test_logging() -> None:
    """The logging of the test session (tests that configure their own put this back)."""
    from entrypoints.log import configure_logging

    # Access logs of thousands of test requests would only slow the suites down.
    configure_logging("WARNING", "console")


# Every service a test builds keeps its candle store in a file of its own under here (unless
# the test names one): /api/ohlcv feeds the store, and a span one test stored must never
# answer another test's range (an outage it planted, say), nor outlive the run.
_CANDLE_STORES = tempfile.mkdtemp(prefix="cde-test-candle-stores-")


def pytest_configure(config: pytest.Config) -> None:
    configure_test_logging()


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CANDLE_STORES, ignore_errors=True)


def fresh_candle_store_path() -> str:
    """A SQLite candle store file nobody used yet (removed at the end of the run)."""
    return f"{_CANDLE_STORES}/{uuid.uuid4().hex}.sqlite3"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--live", action="store_true", help="run tests that call the real providers")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--live"):
        return
    skip = pytest.mark.skip(reason="live test: needs --live and the internet")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def candle_store_per_test(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test's service keeps its candles in a file of its own (CANDLE_STORE_PATH), never in
    ./data of the checkout: candles one test stored must not answer another test's range."""
    path = tmp_path_factory.mktemp("candle-store") / "candles.sqlite3"
    monkeypatch.setenv("CANDLE_STORE_PATH", str(path))


@pytest.fixture
async def simulator() -> AsyncIterator[UpstreamSimulator]:
    """A fresh upstream simulator on 127.0.0.1 for one test."""
    sim = UpstreamSimulator()
    await sim.start(host="127.0.0.1", port=0)
    try:
        yield sim
    finally:
        await sim.stop()


def settings_for(sim: UpstreamSimulator, **overrides: Any) -> Settings:
    """Settings pointing every provider at ``sim``; no .env file is read."""
    urls = sim.base_urls
    values: dict[str, Any] = {
        "binance_base_url": urls["binance"],
        "kraken_base_url": urls["kraken"],
        "coingecko_base_url": urls["coingecko"],
        "coincap_base_url": urls["coincap"],
        "alternative_me_base_url": urls["alternative_me"],
        # The exchanges' WebSockets too: a test that watches a market must never reach the real ones.
        "binance_ws_url": sim.ws_urls["binance"],
        "kraken_ws_url": sim.ws_urls["kraken"],
        "coincap_api_key": COINCAP_KEY,
        "admin_token": ADMIN_TOKEN,
        "request_timeout": 2.0,
        "host": "127.0.0.1",
        "port": 0,
        "candle_store_path": fresh_candle_store_path(),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def make_settings(simulator: UpstreamSimulator) -> Callable[..., Settings]:
    """Build settings for the running simulator, with overrides."""
    return lambda **overrides: settings_for(simulator, **overrides)


@pytest.fixture
async def make_service(aiohttp_client: Any, simulator: UpstreamSimulator) -> Callable[..., Any]:
    """Start the real REST app on a real loopback socket; returns an aiohttp test client.

    ``clock=`` replaces the service's Clock (a ``tests.fakes.FakeClock``, say), so a test
    about time advances it instead of sleeping.
    """
    from entrypoints.container import build_container
    from entrypoints.rest.app import create_app

    async def start(*, clock: Clock | None = None, **overrides: Any) -> Any:
        settings = settings_for(simulator, **overrides)
        container = build_container(settings)
        if clock is not None:
            container.shared.clock.override(clock)
        return await aiohttp_client(create_app(settings, container))

    return start


@pytest.fixture
async def service(make_service: Callable[..., Any]) -> Any:
    """The REST service with default settings against the simulator."""
    return await make_service()


@pytest.fixture(scope="session")
def redis_server_session() -> Any:
    """One real redis-server for the whole run (started here, killed at the end)."""
    from tests.redis_server import RedisServer, redis_binary, required

    binary = redis_binary()
    if binary is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if required():
            pytest.fail(message + "; under CI it is required", pytrace=False)
        pytest.skip(message)
    server = RedisServer(binary)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_server(redis_server_session: Any) -> Any:
    """The shared redis-server, running and empty at the start of each test."""
    if not redis_server_session.ping():
        redis_server_session.start()
    redis_server_session.flush()
    return redis_server_session


@pytest.fixture(scope="session")
def postgres_server_session() -> Any:
    """One throwaway PostgreSQL server for the whole run (started here, stopped at the end)."""
    from tests.postgres_server import PostgresServer, postgres_bindir
    from tests.redis_server import required

    bindir = postgres_bindir()
    if bindir is None:
        message = "PostgreSQL is not installed (apt-get install postgresql)"
        if required():
            pytest.fail(message + "; under CI it is required", pytrace=False)
        pytest.skip(message)
    server = PostgresServer(bindir)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_database(postgres_server_session: Any) -> Any:
    """The URL of a new, empty database on the shared PostgreSQL server, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    yield postgres_server_session.create_database(name)
    postgres_server_session.drop_database(name)
