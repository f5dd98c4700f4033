"""Per-client limits shared by every replica: a moving window per client and group in Redis.

The same rule as the in-process limiter (at most N requests in any 60 s), in one Lua script
so a request costs one round trip: drop the times that left the window, count, admit or tell
when the oldest counted request leaves. Times come from the Redis server's clock, so
replicas with skewed clocks still share one window.
"""

from __future__ import annotations

import os

from redis.asyncio import Redis

from domain.ports import RateDecision

WINDOW_MS = 60_000

_HIT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now_ms, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return {0, 0, tonumber(oldest[2]) + window - now_ms}
"""


class RedisClientRateLimiter:
    """Implements the ClientRateLimiter port on Redis (keys ``{prefix}ratelimit:{group}:{client}``)."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._prefix = f"{prefix}ratelimit:"
        self._hit = client.register_script(_HIT)

    async def hit(self, group: str, client: str, per_minute: int) -> RateDecision:
        """Count one request; refused requests are not counted."""
        member = os.urandom(8).hex()  # two requests in one millisecond are two requests
        allowed, remaining, wait_ms = await self._hit(
            keys=[f"{self._prefix}{group}:{client}"], args=[WINDOW_MS, per_minute, member]
        )
        return RateDecision(bool(allowed), per_minute, int(remaining), max(int(wait_ms), 0) / 1000)
