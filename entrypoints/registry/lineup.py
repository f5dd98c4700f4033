"""Which adapters serve each capability, and in which order, as configured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.ports import MarketStream, Provider
from entrypoints.registry.entry import Capability
from entrypoints.registry.providers import PROVIDERS, capable


class Lineup:
    """The built adapters per capability, in the order the use cases ask them.

    OHLCV_PROVIDERS and PRICE_PROVIDERS order their capabilities (settings checked them
    against the registry); every other capability is served by each provider that declares
    it, in registry order. With ENABLE_SENTIMENT=false sentiment keeps its providers (the use
    case refuses politely) but is not a capability health counts as servable.

    Streams are the ``streams`` adapters (``MarketStream``, by provider id) in STREAM_PROVIDERS
    order: ``chain(Capability.STREAMS)``. They are not among ``capabilities``: health counts
    what the REST providers can serve, and reports the streams apart.
    """

    def __init__(
        self,
        adapters: Mapping[str, Provider],
        *,
        ohlcv_providers: Sequence[str],
        price_providers: Sequence[str],
        enable_sentiment: bool,
        streams: Mapping[str, MarketStream] | None = None,
        stream_providers: Sequence[str] = (),
    ) -> None:
        self._adapters = adapters
        self._streams = dict(streams or {})
        self._order = {capability: capable(capability) for capability in Capability}
        self._order[Capability.OHLCV] = tuple(ohlcv_providers)
        self._order[Capability.PRICES] = tuple(price_providers)
        self._order[Capability.STREAMS] = tuple(stream_providers)
        self._switched_off = {Capability.STREAMS} | (set() if enable_sentiment else {Capability.SENTIMENT})

    @property
    def every(self) -> list[Provider]:
        """Every provider's adapter, in registry order."""
        return [self._adapters[entry.id] for entry in PROVIDERS]

    def chain(self, capability: Capability) -> list[Any]:
        """The adapters asked for ``capability``, first to last."""
        adapters: Mapping[str, Any] = self._streams if capability is Capability.STREAMS else self._adapters
        return [adapters[name] for name in self._order[capability]]

    @property
    def streams(self) -> list[MarketStream]:
        """The stream adapters in STREAM_PROVIDERS order (the supervisor's failover order)."""
        return [self._streams[name] for name in self._order[Capability.STREAMS]]

    @property
    def capabilities(self) -> dict[str, list[str]]:
        """Capability → the provider ids that can serve it, for the capabilities switched on."""
        return {
            capability.value: list(names)
            for capability, names in self._order.items()
            if names and capability not in self._switched_off
        }
