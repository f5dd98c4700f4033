"""Provider cool-downs shared by every replica through Redis."""

from __future__ import annotations

import time

from redis.asyncio import Redis


class RedisCooldowns:
    """Implements the Cooldowns port on Redis: one key per provider, expiring with the
    cool-down, so a Retry-After seen by one replica holds for all."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}cooldown:"

    async def until(self, provider: str) -> float | None:
        """Epoch seconds before which ``provider`` must not be called, if any."""
        raw = await self._client.get(self._prefix + provider)
        return float(raw) if raw is not None else None

    async def hold(self, provider: str, until: float) -> None:
        """Keep the later of the stored and the new cool-down."""
        remaining_ms = int((until - time.time()) * 1000)
        if remaining_ms <= 0:
            return
        current = await self.until(provider)
        if current is None or until > current:
            await self._client.set(self._prefix + provider, repr(until), px=remaining_ms)
