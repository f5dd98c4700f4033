"""The Cooldowns port with failover: cool-downs kept in this process AND shared through Redis."""

from __future__ import annotations

from adapters.failover.guard import SharedBackendGuard
from domain.ports import Cooldowns


class FailoverCooldowns:
    """Implements the Cooldowns port over ``shared`` cool-downs (Redis) and ``local`` ones; the
    later of the two holds.

    Unlike the other wrappers both are always used, not one instead of the other: a ban seen
    while Redis was out is still honoured after it returns, and a Redis outage never lifts a
    cool-down this process knows about.
    """

    def __init__(self, shared: Cooldowns, local: Cooldowns, guard: SharedBackendGuard) -> None:
        self._shared = shared
        self._local = local
        self._guard = guard

    async def until(self, provider: str) -> float | None:
        """The later of the local and the shared cool-down."""
        local = await self._local.until(provider)
        shared = await self._guard.run(lambda: self._shared.until(provider), _none)
        known = [value for value in (local, shared) if value is not None]
        return max(known) if known else None

    async def hold(self, provider: str, until: float) -> None:
        """Record locally, then share (when Redis answers)."""
        await self._local.hold(provider, until)
        await self._guard.run(lambda: self._shared.hold(provider, until), _none)


async def _none() -> None:
    return None
