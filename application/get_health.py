"""Use case: the health of the service, its providers and its cache."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from application.provider_calls import ProviderCalls
from domain.ports import Cache, CacheStats, Clock
from domain.provider_health import ProviderHealth


@dataclass(frozen=True, slots=True)
class HealthReport:
    """``status`` is healthy, degraded or unhealthy (no capability can be served)."""

    status: str
    uptime: float
    version: str
    providers: tuple[ProviderHealth, ...]
    cache: CacheStats


class GetHealth:
    """Summarises provider health from real traffic and the cache's counters.

    ``capabilities`` maps a capability (ohlcv, prices, ...) to the providers that can serve
    it; the service is unhealthy only when no capability has an online, not yet called
    ("unknown") or degraded provider (a disabled provider serves nothing) and the cache holds
    nothing to serve. Degraded: some provider is neither online nor unknown, some capability
    cannot be served, or the shared cache is unreachable.
    """

    def __init__(
        self,
        calls: ProviderCalls,
        cache: Cache,
        clock: Clock,
        capabilities: Mapping[str, Sequence[str]],
        version: str,
    ) -> None:
        self._calls = calls
        self._cache = cache
        self._clock = clock
        self._capabilities = capabilities
        self._version = version
        self._started = clock.monotonic()

    async def execute(self) -> HealthReport:
        """Build the report (never calls a provider)."""
        providers = tuple(await self._calls.health())
        # A provider not called yet counts as online: a fresh service is healthy.
        usable = {p.name for p in providers if p.status in ("online", "unknown", "degraded")}
        served = [cap for cap, names in self._capabilities.items() if usable.intersection(names)]
        all_online = all(p.status in ("online", "unknown", "disabled") for p in providers)
        cache = await self._cache.stats()
        if not served:
            # Cached data (stale if need be) can still be served: not unhealthy while it lasts.
            status = "unhealthy" if cache.size == 0 else "degraded"
        elif all_online and len(served) == len(self._capabilities) and cache.state == "ok":
            status = "healthy"
        else:
            status = "degraded"
        return HealthReport(
            status=status,
            uptime=round(self._clock.monotonic() - self._started, 3),
            version=self._version,
            providers=providers,
            cache=cache,
        )
