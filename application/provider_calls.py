"""Every call to a provider goes through here: politeness, circuit, deadline, health record."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from domain.errors import (
    BadPayload,
    BudgetExhausted,
    CircuitOpen,
    CoolingDown,
    ProviderDisabled,
    ProviderError,
    UpstreamBlocked,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
)
from domain.ports import (
    CircuitBreakers,
    CircuitState,
    Clock,
    Cooldowns,
    NoTelemetry,
    Provider,
    Telemetry,
    UpstreamBudgets,
)
from domain.provider_health import ProviderHealth

T = TypeVar("T")

# How a provider call ended, as telemetry names it. Refused calls never reached the provider.
_ANSWERED = {
    UpstreamTimeout: "timeout",
    UpstreamRateLimited: "rate_limited",
    UpstreamBlocked: "blocked",
    BadPayload: "bad_payload",
    UpstreamRejected: "rejected",
}
_REFUSED = {
    CoolingDown: "cooldown",
    CircuitOpen: "circuit_open",
    BudgetExhausted: "budget_exhausted",
    ProviderDisabled: "disabled",
}


def _outcome(error: ProviderError, table: dict[type[ProviderError], str], default: str) -> str:
    for kind, name in table.items():
        if isinstance(error, kind):
            return name
    return default


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
    """Runs provider operations and keeps each provider's health from real traffic.

    In order, a call is refused without touching the provider while the provider's
    Retry-After cool-down runs, while its circuit is open, or while our own budget for it is
    spent (checked last, so refused calls spend nothing); otherwise it runs under
    REQUEST_TIMEOUT through the circuit. A rate limit or block with a retry time starts a
    cool-down: no call until it has passed, whatever the circuit says.

    ``providers`` are known to health from the start, in their order, each switched on or
    off as its ``enabled`` says.
    """

    def __init__(
        self,
        clock: Clock,
        request_timeout: float,
        offline_after: int = 3,
        *,
        providers: Iterable[Provider] = (),
        breakers: CircuitBreakers | None = None,
        cooldowns: Cooldowns | None = None,
        budgets: UpstreamBudgets | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._clock = clock
        self._timeout = request_timeout
        self._offline_after = offline_after
        self._breakers = breakers
        self._cooldowns = cooldowns
        self._budgets = budgets
        self._telemetry = telemetry or NoTelemetry()
        self._records: dict[str, _Record] = {}
        for provider in providers:
            self.register(provider.name, enabled=provider.enabled)

    def register(self, name: str, *, enabled: bool = True) -> None:
        """Make ``name`` known to health, even before its first call."""
        self._records.setdefault(name, _Record()).enabled = enabled

    def is_enabled(self, name: str) -> bool:
        """False for a provider configuration switched off."""
        record = self._records.get(name)
        return record.enabled if record else True

    async def run(self, provider: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run ``operation`` for ``provider`` unless politeness or its circuit forbids it.

        Raises ``CircuitOpen`` or ``BudgetExhausted`` (no call made), or the provider's own
        ``ProviderError``; a timeout becomes ``ProviderUnavailable``.
        """
        reached = False

        async def timed() -> T:
            nonlocal reached
            reached = True
            return await self._timed(provider, operation)

        try:
            return await self._run(provider, timed)
        except ProviderError as error:
            if not reached:  # refused here: telemetry of the calls that were made is in _timed
                self._telemetry.upstream_call(provider, _outcome(error, _REFUSED, "refused"), None)
            raise

    async def _run(self, provider: str, timed: Callable[[], Awaitable[T]]) -> T:
        await self._check_cooldown(provider)
        if self._breakers is not None:
            circuit = await self._breakers.state(provider)
            if circuit.state == "open":
                raise CircuitOpen(provider, "circuit open after repeated failures", retry_after=circuit.retry_after)
        if self._budgets is not None:
            await self._budgets.take(provider)
        try:
            if self._breakers is None:
                return await timed()
            return await self._breakers.call(provider, timed)
        except (UpstreamRateLimited, UpstreamBlocked) as error:
            if self._cooldowns is not None and error.retry_after:
                await self._cooldowns.hold(provider, self._clock.now() + error.retry_after)
            raise

    async def _check_cooldown(self, provider: str) -> None:
        if self._cooldowns is None:
            return
        until = await self._cooldowns.until(provider)
        now = self._clock.now()
        if until is not None and until > now:
            raise CoolingDown(provider, "cooling down: the provider asked us to wait",
                              retry_after=round(until - now, 3))  # fmt: skip

    async def _timed(self, provider: str, operation: Callable[[], Awaitable[T]]) -> T:
        started = self._clock.monotonic()
        try:
            async with asyncio.timeout(self._timeout):
                result = await operation()
        except TimeoutError:
            error = UpstreamTimeout(provider, f"no answer within {self._timeout:g}s")
            self._record(provider, started, error, "timeout")
            raise error from None
        except UpstreamRejected:
            self._record(provider, started, None, "rejected")  # it answered: alive
            raise
        except ProviderError as error:
            self._record(provider, started, error, _outcome(error, _ANSWERED, "error"))
            raise
        self._record(provider, started, None, "ok")
        return result

    async def health(self) -> list[ProviderHealth]:
        """Each registered provider's health, in registration order."""
        report = []
        for name, record in self._records.items():
            circuit = await self._breakers.state(name) if self._breakers else CircuitState("closed")
            report.append(self._health_of(name, record, circuit))
        return report

    def _record(self, provider: str, started: float, error: ProviderError | None, outcome: str) -> None:
        record = self._records.setdefault(provider, _Record())
        elapsed = self._clock.monotonic() - started
        self._telemetry.upstream_call(provider, outcome, elapsed)
        record.latency_ms = round(elapsed * 1000, 2)
        record.last_check = self._clock.now()
        record.calls += 1
        if error is None:
            record.consecutive_failures = 0
            record.error_message = None
        else:
            record.consecutive_failures += 1
            record.failures += 1
            record.error_message = error.reason

    def _health_of(self, name: str, record: _Record, circuit: CircuitState) -> ProviderHealth:
        if not record.enabled:
            status = "disabled"
        elif circuit.state == "open" or record.consecutive_failures >= self._offline_after:
            status = "offline"
        elif record.consecutive_failures or circuit.state == "half_open":
            status = "degraded"
        elif record.last_check is None:  # nothing known yet: health does not claim it answers
            status = "unknown"
        else:
            status = "online"
        return ProviderHealth(
            name=name,
            status=status,
            circuit=circuit.state,
            latency_ms=record.latency_ms,
            last_check=record.last_check,
            error_message=record.error_message,
            calls=record.calls,
            failures=record.failures,
        )
