"""Per-client limits in process memory: a moving window of request times per client and group.

The same rule as the shared limiter's Lua script (``redis_rate_limiter``): at most N requests
in any 60 s, a refused request is not counted, and a refusal says when the oldest counted
request leaves the window. It runs on the hot path of every limited request, so it is kept to
a few dictionary and deque operations. Times are the Clock's monotonic seconds.
"""

from __future__ import annotations

from collections import deque

from domain.ports import Clock, RateDecision

WINDOW = 60.0
_SWEEP_EVERY = 10_000  # hits between two sweeps of clients idle for a whole window


class LocalClientRateLimiter:
    """Implements the ClientRateLimiter port for one process."""

    def __init__(self, clock: Clock, sweep_every: int = _SWEEP_EVERY) -> None:
        self._clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._sweep_every = sweep_every
        self._until_sweep = sweep_every

    def __len__(self) -> int:
        """Clients (per group) remembered."""
        return len(self._hits)

    async def hit(self, group: str, client: str, per_minute: int) -> RateDecision:
        """Count one request; refused requests are not counted."""
        now = self._clock.monotonic()
        horizon = now - WINDOW
        self._until_sweep -= 1
        if self._until_sweep <= 0:  # before this client's window is taken: it may be swept
            self._sweep(horizon)
        key = (group, client)
        times = self._hits.get(key)
        if times is None:
            times = self._hits[key] = deque()
        while times and times[0] <= horizon:
            times.popleft()
        if len(times) >= per_minute:
            return RateDecision(False, per_minute, 0, max(times[-per_minute] + WINDOW - now, 0.0))
        times.append(now)
        return RateDecision(True, per_minute, per_minute - len(times), 0.0)

    async def refund(self, group: str, client: str) -> None:
        """Uncount the client's latest counted request in ``group`` (none: nothing happens)."""
        times = self._hits.get((group, client))
        if times:
            times.pop()

    def _sweep(self, horizon: float) -> None:
        """Forget clients with no request in the last window, so memory follows the live ones."""
        self._until_sweep = self._sweep_every
        idle = [key for key, times in self._hits.items() if not times or times[-1] <= horizon]
        for key in idle:
            del self._hits[key]
