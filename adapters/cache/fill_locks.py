"""Locks that let one replica fill a cold cache key while the others wait for it."""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

# Delete the lock only if we still own it (it may have expired and been taken by another).
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisFillLocks:
    """Implements the FillLocks port with ``SET NX PX`` per key and an owner token."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}fill:"
        self._token = uuid.uuid4().hex
        self._release = client.register_script(_RELEASE)

    async def try_acquire(self, key: str, ttl: float) -> bool:
        """True when this process now fills ``key``; the lock expires after ``ttl`` s."""
        return bool(await self._client.set(self._prefix + key, self._token, nx=True, px=max(int(ttl * 1000), 1)))

    async def release(self, key: str) -> None:
        """Give the lock up if this process still holds it."""
        await self._release(keys=[self._prefix + key], args=[self._token])


class LocalFillLocks:
    """The in-process FillLocks: one process fills alone (its own single-flight suffices)."""

    async def try_acquire(self, key: str, ttl: float) -> bool:
        """Always the filler."""
        return True

    async def release(self, key: str) -> None:
        """Nothing to release."""
