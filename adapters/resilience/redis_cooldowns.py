"""Provider cool-downs shared by every replica through Redis."""

from __future__ import annotations

from redis.asyncio import Redis

from domain.ports import Clock

# Keep the later cool-down atomically: two replicas must not let a short 429 overwrite a
# long 418 ban.
_HOLD_LATER = """
local current = tonumber(redis.call('get', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1
"""


class RedisCooldowns:
    """Implements the Cooldowns port on Redis: one key per provider, expiring with the
    cool-down, so a Retry-After seen by one replica holds for all."""

    def __init__(self, client: Redis, prefix: str, clock: Clock) -> None:
        self._client = client
        self._clock = clock
        self._prefix = f"{prefix}cooldown:"
        self._hold_later = client.register_script(_HOLD_LATER)

    async def until(self, provider: str) -> float | None:
        """Epoch seconds before which ``provider`` must not be called, if any."""
        raw = await self._client.get(self._prefix + provider)
        return float(raw) if raw is not None else None

    async def hold(self, provider: str, until: float) -> None:
        """Keep the later of the stored and the new cool-down."""
        remaining_ms = int((until - self._clock.now()) * 1000)
        if remaining_ms > 0:
            await self._hold_later(keys=[self._prefix + provider], args=[repr(until), remaining_ms])
