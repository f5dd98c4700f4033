"""Every call to a provider goes through here: a deadline, timing and a health record."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from domain.errors import ProviderError, ProviderUnavailable, UpstreamRejected
from domain.ports import Clock
from domain.provider_health import ProviderHealth

T = TypeVar("T")


@dataclass(slots=True)
class _Record:
    enabled: bool = True
    latency_ms: float | None = None
    last_check: float | None = None
    error_message: str | None = None
    consecutive_failures: int = 0
    calls: int = 0
    failures: int = 0


class ProviderCalls:
    """Runs provider operations under REQUEST_TIMEOUT and keeps each provider's health.

    Health comes from real traffic only: latency and outcome of the last call, the last error
    and the count of consecutive failures.
    """

    def __init__(self, clock: Clock, request_timeout: float, offline_after: int = 3) -> None:
        self._clock = clock
        self._timeout = request_timeout
        self._offline_after = offline_after
        self._records: dict[str, _Record] = {}

    def register(self, name: str, *, enabled: bool = True) -> None:
        """Make ``name`` known to health, even before its first call."""
        self._records.setdefault(name, _Record()).enabled = enabled

    def is_enabled(self, name: str) -> bool:
        """False for a provider configuration switched off."""
        record = self._records.get(name)
        return record.enabled if record else True

    async def run(self, provider: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run ``operation`` for ``provider`` within the request timeout.

        A timeout becomes ``ProviderUnavailable``; every ``ProviderError`` is recorded and
        re-raised. A provider that refused one request (``UpstreamRejected``) still answered,
        so it counts as alive.
        """
        started = self._clock.monotonic()
        try:
            async with asyncio.timeout(self._timeout):
                result = await operation()
        except TimeoutError:
            error = ProviderUnavailable(provider, f"no answer within {self._timeout:g}s")
            self._record(provider, started, error)
            raise error from None
        except UpstreamRejected:
            self._record(provider, started, None)
            raise
        except ProviderError as error:
            self._record(provider, started, error)
            raise
        self._record(provider, started, None)
        return result

    def health(self) -> list[ProviderHealth]:
        """Each registered provider's health, in registration order."""
        return [self._health_of(name, record) for name, record in self._records.items()]

    def _record(self, provider: str, started: float, error: ProviderError | None) -> None:
        record = self._records.setdefault(provider, _Record())
        record.latency_ms = round((self._clock.monotonic() - started) * 1000, 2)
        record.last_check = self._clock.now()
        record.calls += 1
        if error is None:
            record.consecutive_failures = 0
            record.error_message = None
        else:
            record.consecutive_failures += 1
            record.failures += 1
            record.error_message = error.reason

    def _health_of(self, name: str, record: _Record) -> ProviderHealth:
        if not record.enabled:
            status = "disabled"
        elif record.consecutive_failures >= self._offline_after:
            status = "offline"
        elif record.consecutive_failures:
            status = "degraded"
        else:
            status = "online"
        return ProviderHealth(
            name=name,
            status=status,
            circuit="closed",
            latency_ms=record.latency_ms,
            last_check=record.last_check,
            error_message=record.error_message,
            calls=record.calls,
            failures=record.failures,
        )

    def names(self) -> Iterable[str]:
        """Registered provider ids."""
        return tuple(self._records)
