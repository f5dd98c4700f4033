"""Use case: per-client request limits by endpoint group, and failed admin attempts."""

from __future__ import annotations

from collections.abc import Mapping

from domain.ports import ClientRateLimiter, NoTelemetry, RateDecision, Telemetry

ADMIN_GROUP = "admin"
ADMIN_FAILURES_PER_MINUTE = 5


class ClientLimits:
    """Counts a client's request against its group's per-minute limit (RATE_LIMIT_*).

    Groups without a limit (health, docs) and a disabled limiter are not counted. Admin
    attempts have a limit of their own, on failures only: it guards the admin token against
    guessing. RATE_LIMIT_ENABLED=false switches it off with the others.
    """

    def __init__(
        self,
        limiter: ClientRateLimiter,
        per_minute: Mapping[str, int],
        enabled: bool,
        telemetry: Telemetry | None = None,
        admin_failures_per_minute: int = ADMIN_FAILURES_PER_MINUTE,
    ) -> None:
        self._limiter = limiter
        self._telemetry = telemetry or NoTelemetry()
        self._per_minute = dict(per_minute)
        self._enabled = enabled
        self._admin_failures = admin_failures_per_minute

    async def check(self, group: str | None, client: str) -> RateDecision | None:
        """The decision for this request, or ``None`` when it is not limited."""
        if not self._enabled or group is None or group not in self._per_minute:
            return None
        decision = await self._limiter.hit(group, client, self._per_minute[group])
        if not decision.allowed:
            self._telemetry.rate_limited(group)
        return decision

    async def admin_attempt(self, client: str) -> RateDecision | None:
        """Count an admin attempt as failed before its token is compared; refused once the
        client failed ``admin_failures_per_minute`` times in a minute (``None``: not limited).

        Counted first so that a burst of guesses sent at once is refused past the limit
        too; :meth:`admin_succeeded` takes the count back when the token was right.
        """
        if not self._enabled:
            return None
        decision = await self._limiter.hit(ADMIN_GROUP, client, self._admin_failures)
        if not decision.allowed:
            self._telemetry.rate_limited(ADMIN_GROUP)
        return decision

    async def admin_succeeded(self, client: str) -> None:
        """The attempt just counted had the right token: it is not a failure."""
        if self._enabled:
            await self._limiter.refund(ADMIN_GROUP, client)
