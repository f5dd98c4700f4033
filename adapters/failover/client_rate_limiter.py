"""The ClientRateLimiter port with failover: while Redis is out, each process counts alone."""

from __future__ import annotations

from adapters.failover.guard import SharedBackendGuard
from domain.ports import ClientRateLimiter, RateDecision


class FailoverClientRateLimiter:
    """Implements the ClientRateLimiter port over a shared ``primary`` (Redis) with an
    in-process ``fallback`` that counts while the guard holds the backend down."""

    def __init__(
        self, primary: ClientRateLimiter, fallback: ClientRateLimiter, guard: SharedBackendGuard
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._guard = guard

    async def hit(self, group: str, client: str, per_minute: int) -> RateDecision:
        """Counted by the primary, or by the fallback during an outage."""
        return await self._guard.run(
            lambda: self._primary.hit(group, client, per_minute),
            lambda: self._fallback.hit(group, client, per_minute),
        )

    async def refund(self, group: str, client: str) -> None:
        """Uncounted where it would be counted now: the primary, or the fallback during an outage."""
        await self._guard.run(
            lambda: self._primary.refund(group, client),
            lambda: self._fallback.refund(group, client),
        )
