"""What one provider declares to the service: an entry of the provider registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import aiohttp

from adapters.providers.upstream import UpstreamClient
from adapters.resilience.upstream_budget import MovingWindowBudgets
from domain.ports import Clock, MarketStream, Provider


class Capability(StrEnum):
    """What a provider can serve; each is one port of domain/ports.py."""

    OHLCV = "ohlcv"
    PRICES = "prices"
    SENTIMENT = "sentiment"
    OVERVIEW = "overview"
    STREAMS = "streams"  # live WebSocket market streams (MarketStream), built by ``stream``


@dataclass(frozen=True, slots=True)
class AdapterParts:
    """What the container hands a provider's adapter factory: the provider's own settings
    and the shared pieces an adapter may take."""

    provider: str
    session: aiohttp.ClientSession
    base_url: str
    api_key: str
    budgets: MovingWindowBudgets
    clock: Clock

    def client(self, headers: Mapping[str, str] | None = None) -> UpstreamClient:
        """An HTTP client for this provider's base URL over the shared session."""
        return UpstreamClient(self.session, self.provider, self.base_url, headers)


@dataclass(frozen=True, slots=True)
class StreamParts:
    """What the container hands a provider's stream adapter factory: the shared session
    (aiohttp's WebSocket client), the provider's WebSocket URL setting and the clock."""

    provider: str
    session: aiohttp.ClientSession
    ws_url: str
    clock: Clock


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    """One provider: its id, what it serves, its settings, how its adapter is built and
    which provider of the upstream simulator stands in for it in sandbox mode.

    The settings are named after the id: ``<ID>_BASE_URL``, ``UPSTREAM_BUDGET_<ID>`` and,
    with ``api_key``, ``<ID>_API_KEY`` (e.g. COINGECKO_BASE_URL); ``base_url`` and
    ``budget`` are their defaults. ``cost`` is what one call spends from the budget.
    ``simulator`` is the provider id the upstream simulator serves it under;
    ``sandbox_key`` is the API key sent there in sandbox mode (real keys never are).

    A provider that serves ``Capability.STREAMS`` has a ``stream`` factory (its
    ``MarketStream`` adapter) and a ``<ID>_WS_URL`` setting whose default is ``ws_url``.
    """

    id: str
    serves: tuple[Capability, ...]
    base_url: str
    budget: str
    build: Callable[[AdapterParts], Provider]
    simulator: str
    api_key: bool = False
    cost: int = 1
    sandbox_key: str = ""
    ws_url: str = ""
    stream: Callable[[StreamParts], MarketStream] | None = None

    def __post_init__(self) -> None:
        streams = Capability.STREAMS in self.serves
        if streams != (self.stream is not None) or streams != bool(self.ws_url):
            raise ValueError(f"{self.id}: streams need both a stream factory and a WebSocket URL, and only streams")

    @property
    def base_url_setting(self) -> str:
        """The name of the base URL setting, e.g. ``binance_base_url``."""
        return f"{self.id}_base_url"

    @property
    def api_key_setting(self) -> str | None:
        """The name of the API key setting, or None when the provider takes no key."""
        return f"{self.id}_api_key" if self.api_key else None

    @property
    def ws_url_setting(self) -> str | None:
        """The name of the WebSocket URL setting (``binance_ws_url``), or None without streams."""
        return f"{self.id}_ws_url" if self.stream is not None else None

    @property
    def budget_setting(self) -> str:
        """The name of our own budget's setting, e.g. ``upstream_budget_binance``."""
        return f"upstream_budget_{self.id}"
