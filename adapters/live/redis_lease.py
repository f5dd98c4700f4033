"""The stream lease across replicas: one Redis key with an owner token."""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

# Renew only while we still own it (it may have run out and been taken by another replica).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
# Give it up only while we still own it.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisStreamLease:
    """Implements ``StreamLease`` on Redis: ``SET NX PX`` takes the key with this replica's
    token, a compare-and-renew script extends it, a compare-and-delete script gives it up.
    The key runs out by itself when its holder stops renewing (a crash), and another
    replica's next ``hold`` takes it."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self.key = f"{prefix}live:lease"
        self.token = uuid.uuid4().hex
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    async def hold(self, ttl: float) -> bool:
        """Take or renew the lease for ``ttl`` seconds; True while this replica holds it."""
        ms = max(int(ttl * 1000), 1)
        if await self._client.set(self.key, self.token, nx=True, px=ms):
            return True
        return bool(await self._renew(keys=[self.key], args=[self.token, ms]))

    async def release(self) -> None:
        """Give the lease up if this replica still holds it."""
        await self._release(keys=[self.key], args=[self.token])
