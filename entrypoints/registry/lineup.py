"""Which adapters serve each capability, and in which order, as configured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.ports import Provider
from entrypoints.registry.entry import Capability
from entrypoints.registry.providers import PROVIDERS, capable


class Lineup:
    """The built adapters per capability, in the order the use cases ask them.

    OHLCV_PROVIDERS and PRICE_PROVIDERS order their capabilities (settings checked them
    against the registry); every other capability is served by each provider that declares
    it, in registry order. With ENABLE_SENTIMENT=false sentiment keeps its providers (the use
    case refuses politely) but is not a capability health counts as servable.
    """

    def __init__(
        self,
        adapters: Mapping[str, Provider],
        *,
        ohlcv_providers: Sequence[str],
        price_providers: Sequence[str],
        enable_sentiment: bool,
    ) -> None:
        self._adapters = adapters
        self._order = {capability: capable(capability) for capability in Capability}
        self._order[Capability.OHLCV] = tuple(ohlcv_providers)
        self._order[Capability.PRICES] = tuple(price_providers)
        self._switched_off = set() if enable_sentiment else {Capability.SENTIMENT}

    @property
    def every(self) -> list[Provider]:
        """Every provider's adapter, in registry order."""
        return [self._adapters[entry.id] for entry in PROVIDERS]

    def chain(self, capability: Capability) -> list[Any]:
        """The adapters asked for ``capability``, first to last."""
        return [self._adapters[name] for name in self._order[capability]]

    @property
    def capabilities(self) -> dict[str, list[str]]:
        """Capability → the provider ids that can serve it, for the capabilities switched on."""
        return {
            capability.value: list(names)
            for capability, names in self._order.items()
            if names and capability not in self._switched_off
        }
