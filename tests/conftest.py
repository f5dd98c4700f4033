"""Fixtures shared by every suite: the upstream simulator and a service wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from entrypoints.settings import Settings
from tests.simulator import UpstreamSimulator

ADMIN_TOKEN = "test-admin-token"
COINCAP_KEY = "test-coincap-key"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--live", action="store_true", help="run tests that call the real providers")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--live"):
        return
    skip = pytest.mark.skip(reason="live test: needs --live and the internet")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


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
        "coincap_api_key": COINCAP_KEY,
        "admin_token": ADMIN_TOKEN,
        "request_timeout": 2.0,
        "host": "127.0.0.1",
        "port": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def make_settings(simulator: UpstreamSimulator) -> Callable[..., Settings]:
    """Build settings for the running simulator, with overrides."""
    return lambda **overrides: settings_for(simulator, **overrides)


@pytest.fixture
async def make_service(aiohttp_client: Any, simulator: UpstreamSimulator) -> Callable[..., Any]:
    """Start the real REST app on a real loopback socket; returns an aiohttp test client."""
    from entrypoints.container import build_container
    from entrypoints.rest.app import create_app

    async def start(**overrides: Any) -> Any:
        settings = settings_for(simulator, **overrides)
        return await aiohttp_client(create_app(settings, build_container(settings)))

    return start


@pytest.fixture
async def service(make_service: Callable[..., Any]) -> Any:
    """The REST service with default settings against the simulator."""
    return await make_service()
