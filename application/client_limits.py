"""Use case: per-client request limits by endpoint group."""

from __future__ import annotations

from collections.abc import Mapping

from domain.ports import ClientRateLimiter, NoTelemetry, RateDecision, Telemetry


class ClientLimits:
    """Counts a client's request against its group's per-minute limit (RATE_LIMIT_*).

    Groups without a limit (health, docs, admin) and a disabled limiter are not counted.
    """

    def __init__(
        self,
        limiter: ClientRateLimiter,
        per_minute: Mapping[str, int],
        enabled: bool,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._limiter = limiter
        self._telemetry = telemetry or NoTelemetry()
        self._per_minute = dict(per_minute)
        self._enabled = enabled

    async def check(self, group: str | None, client: str) -> RateDecision | None:
        """The decision for this request, or ``None`` when it is not limited."""
        if not self._enabled or group is None or group not in self._per_minute:
            return None
        decision = await self._limiter.hit(group, client, self._per_minute[group])
        if not decision.allowed:
            self._telemetry.rate_limited(group)
        return decision
