"""The CircuitBreakers port with failover: circuits shared through Redis, in-process meanwhile."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from adapters.failover.guard import OUTAGE_ERRORS, SharedBackendGuard
from domain.ports import CircuitBreakers, CircuitState

T = TypeVar("T")


class FailoverBreakers:
    """Implements the CircuitBreakers port over ``primary`` circuits kept in Redis with
    in-process ``fallback`` circuits that decide while the guard holds the backend down.

    The provider call runs inside the primary's circuit, so unlike the other wrappers no
    timeout is put around the primary and an outage has two moments: reading the circuit
    before the call (the fallback's circuit then decides and runs it), or the bookkeeping
    after it (the provider's answer then stands). The provider is never called twice
    because of an outage.
    """

    def __init__(
        self, primary: CircuitBreakers, fallback: CircuitBreakers, guard: SharedBackendGuard
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._guard = guard

    async def call(self, provider: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run ``operation`` through the primary's circuit, or the fallback's during an outage."""
        if not self._guard.available():
            return await self._fallback.call(provider, operation)
        results: list[T] = []
        errors: list[BaseException] = []

        async def recorded() -> T:
            try:
                result = await operation()
            except BaseException as error:
                errors.append(error)
                raise
            results.append(result)
            return result

        try:
            return await self._primary.call(provider, recorded)
        except OUTAGE_ERRORS as error:
            if errors and errors[0] is error:
                raise  # the provider's own error (a timeout, say), not the store's
            self._guard.mark_down(error)
            if errors:  # only the bookkeeping failed: the provider's answer stands
                raise errors[0] from None
            if results:
                return results[0]
            return await self._fallback.call(provider, operation)

    async def state(self, provider: str) -> CircuitState:
        """The primary's circuit state, or the fallback's during an outage."""
        if not self._guard.available():
            return await self._fallback.state(provider)
        try:
            return await self._primary.state(provider)
        except OUTAGE_ERRORS as error:
            self._guard.mark_down(error)
            return await self._fallback.state(provider)
