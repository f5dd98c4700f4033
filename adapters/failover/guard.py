"""Using a shared backend (Redis) without letting its outages cost requests: the guard every
failover wrapper asks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from redis.exceptions import RedisError

from domain.ports import Clock

T = TypeVar("T")
log = structlog.get_logger("shared_backend")  # the name operators' log filters already match
OUTAGE_ERRORS = (RedisError, OSError, TimeoutError)


class SharedBackendGuard:
    """Tracks whether the shared backend answers, for every adapter that uses it.

    Each call gets ``op_timeout`` seconds. After a failure, calls go straight to the
    in-process fallback for ``retry_interval`` seconds, then the backend is tried again, so
    it reconnects by itself. Transitions are logged once each.
    """

    def __init__(self, clock: Clock, op_timeout: float = 0.25, retry_interval: float = 2.0) -> None:
        self._clock = clock
        self.op_timeout = op_timeout
        self._retry_interval = retry_interval
        self._down_since: float | None = None
        self._retry_at = 0.0

    @property
    def healthy(self) -> bool:
        """False while the backend is considered down."""
        return self._down_since is None

    def available(self) -> bool:
        """Whether the next call should try the backend."""
        return self._down_since is None or self._clock.monotonic() >= self._retry_at

    async def run(self, primary: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]) -> T:
        """``primary()`` under the timeout, or ``fallback()`` when the backend is out."""
        if not self.available():
            return await fallback()
        try:
            async with asyncio.timeout(self.op_timeout):
                result = await primary()
        except OUTAGE_ERRORS as error:
            self.mark_down(error)
            return await fallback()
        self.mark_up()
        return result

    def mark_down(self, error: BaseException) -> None:
        """Record an outage (logged when it starts)."""
        now = self._clock.monotonic()
        if self._down_since is None:
            log.error("shared backend unavailable, using in-process state",
                      error=type(error).__name__, detail=str(error)[:200])  # fmt: skip
            self._down_since = now
        self._retry_at = now + self._retry_interval

    def mark_up(self) -> None:
        """Record that the backend answered (logged when an outage ends)."""
        if self._down_since is not None:
            log.warning("shared backend back", down_for_s=round(self._clock.monotonic() - self._down_since, 1))
            self._down_since = None
