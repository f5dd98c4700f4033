"""Sandbox mode: the whole service, real adapters over real HTTP, against the built-in simulator.

``serve --sandbox`` (or SANDBOX=true) starts an ``UpstreamSimulator`` on loopback and points
every provider at it, so a developer can work offline with deterministic data: one seed
(SANDBOX_SEED) gives one market, the same in every run and every worker. Every answer says
the data is simulated (``X-Data-Mode: sandbox``, ``"sandbox": true``, gRPC ``x-data-mode``).

Only the entrypoints wire the simulator; the service layers never import it (an
import-linter contract).
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

import structlog
from pydantic import SecretStr

from entrypoints.registry.providers import PROVIDERS
from entrypoints.settings import Settings
from simulator import UpstreamSimulator, ws_url_of

#: The value of the data-mode marks: ``X-Data-Mode`` on REST, ``x-data-mode`` on gRPC.
DATA_MODE = "sandbox"
LOOPBACK = "127.0.0.1"
#: Real seconds between the simulated exchanges' live frames (kline, ticker) in sandbox mode.
STREAM_CADENCE = 1.0
_THREAD_TIMEOUT = 10.0

log = structlog.get_logger("sandbox")


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sandboxed(settings: Settings, base_urls: Mapping[str, str]) -> Settings:
    """``settings`` with every provider on the simulator at ``base_urls`` (the simulator's
    base URL per provider, keyed as the registry's ``simulator`` names it).

    Every base URL is replaced, and every WebSocket URL (the simulator's WebSocket side), so
    provider URLs set in the environment are never called.
    Real API keys are replaced by each entry's ``sandbox_key`` (the simulator shows request
    headers on ``/__sim/requests``), and the cache stays in this process: simulated values
    must never land in a Redis that real replicas share.
    """
    urls = {entry.base_url_setting: base_urls[entry.simulator] for entry in PROVIDERS}
    urls |= {
        entry.ws_url_setting: ws_url_of(base_urls[entry.simulator], entry.simulator)
        for entry in PROVIDERS
        if entry.ws_url_setting is not None
    }
    outside = [url for url in urls.values() if not _is_loopback(url)]
    if outside:
        raise ValueError(f"sandbox upstream must be on loopback, got {outside}")
    keys = {entry.api_key_setting: SecretStr(entry.sandbox_key) for entry in PROVIDERS if entry.api_key_setting}
    return settings.model_copy(
        update={
            **{setting: url.rstrip("/") for setting, url in urls.items()},
            **keys,
            "sandbox": True,
            "cache_backend": "memory",
        }
    )


def announce(settings: Settings, base_urls: Mapping[str, str]) -> None:
    """The start-up warning: nobody should mistake this process for the real service."""
    parts = urlsplit(next(iter(base_urls.values())))
    upstream_root = f"{parts.scheme}://{parts.netloc}"  # the simulator's own address
    if settings.cache_backend == "redis":
        log.warning("sandbox mode keeps its cache in memory: CACHE_BACKEND=redis is ignored")
    log.warning(
        "SANDBOX MODE: every provider is the built-in simulator; the data is simulated, not real market data",
        seed=settings.sandbox_seed,
        upstream=upstream_root,
        control_api=f"{upstream_root}/__sim",
    )


async def start_upstream(seed: int) -> UpstreamSimulator:
    """A simulator listening on a free loopback port, in the running event loop; its
    WebSocket side pushes live frames every ``STREAM_CADENCE`` seconds."""
    simulator = UpstreamSimulator(seed=seed, stream_cadence=STREAM_CADENCE)
    await simulator.start(host=LOOPBACK, port=0)
    return simulator


class UpstreamThread:
    """One simulator on its own event loop in a background thread.

    For the supervisor of ``serve --workers N``, which has no event loop of its own: every
    worker points at this one simulator, as every replica would call the same real
    providers. So all workers read one market (price changes and faults set through
    ``/__sim`` reach all of them), share one Binance weight budget and one call log.
    """

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._simulator: UpstreamSimulator | None = None

    def start(self) -> UpstreamSimulator:
        """Start the thread and the simulator; returns the simulator once it listens."""
        loop = self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, name="sandbox-upstream", daemon=True)
        self._thread.start()
        try:
            started = asyncio.run_coroutine_threadsafe(start_upstream(self._seed), loop)
            self._simulator = started.result(_THREAD_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        return self._simulator

    def stop(self) -> None:
        """Stop the simulator, then the loop and the thread. Stopping twice is harmless."""
        loop, thread, simulator = self._loop, self._thread, self._simulator
        self._loop = self._thread = self._simulator = None
        if loop is None or thread is None:
            return
        try:
            if simulator is not None:
                asyncio.run_coroutine_threadsafe(simulator.stop(), loop).result(_THREAD_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_THREAD_TIMEOUT)
            if not thread.is_alive():
                loop.close()
