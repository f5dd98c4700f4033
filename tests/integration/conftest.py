"""Fixtures of the adapter integration suite: a simulator on a fixed clock and real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

import aiohttp
import pytest

from adapters.providers.upstream import UpstreamClient
from simulator import UpstreamSimulator
from tests.fakes import FakeClock
from tests.integration.support import NOW

ClientFactory = Callable[..., UpstreamClient]


@pytest.fixture
async def sim() -> AsyncIterator[UpstreamSimulator]:
    """A fresh simulator on 127.0.0.1 whose clock stands still at ``NOW``."""
    simulator = UpstreamSimulator(now=lambda: NOW, seed=7)
    await simulator.start(host="127.0.0.1", port=0)
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
def clock() -> FakeClock:
    """The adapters' clock: it stands at ``NOW`` with the simulator's and moves only when told."""
    return FakeClock(now=NOW)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The adapters' pooled session, as the service builds it (minus the long timeout)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        yield http


@pytest.fixture
async def impatient_session() -> AsyncIterator[aiohttp.ClientSession]:
    """A session that gives up after half a second, for the ``timeout`` fault."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.5)) as http:
        yield http


@pytest.fixture
def client_for(sim: UpstreamSimulator, session: aiohttp.ClientSession) -> ClientFactory:
    """``client_for("binance", headers=..., session=...)``: an UpstreamClient on the simulator."""

    def build(
        provider: str,
        headers: Mapping[str, str] | None = None,
        http: aiohttp.ClientSession | None = None,
    ) -> UpstreamClient:
        return UpstreamClient(http or session, provider, sim.base_urls[provider], headers)

    return build
