"""The stream demand of every replica, in one Redis sorted set."""

from __future__ import annotations

import uuid

import structlog
from redis.asyncio import Redis

from adapters.live.codec import LiveCodecError, decode_key, encode_key
from domain.live import StreamKey
from domain.ports import Clock

log = structlog.get_logger("live.demand")


class RedisStreamDemand:
    """Implements ``StreamDemand`` on Redis: one sorted set whose members are
    ``<replica>/<stream key>`` scored with the epoch second their announcement runs out
    (Clock port). ``wanted`` reads the members not run out; each ``announce`` replaces this
    replica's members and drops everyone's expired ones, so a replica that died leaves
    nothing behind after its ttl. The set itself expires when nobody announces any more."""

    def __init__(self, client: Redis, prefix: str, clock: Clock) -> None:
        self._client = client
        self._clock = clock
        self.key = f"{prefix}live:demand"
        self.replica = uuid.uuid4().hex
        self._members: frozenset[str] = frozenset()

    async def announce(self, keys: frozenset[StreamKey], ttl: float) -> None:
        """This replica watches ``keys`` for ``ttl`` seconds (its previous announcement is
        replaced)."""
        now = self._clock.now()
        members = frozenset(f"{self.replica}/{encode_key(key)}" for key in keys)
        pipe = self._client.pipeline(transaction=True)
        pipe.zremrangebyscore(self.key, "-inf", now)
        gone = self._members - members
        if gone:
            pipe.zrem(self.key, *gone)
        if members:
            pipe.zadd(self.key, {member: now + ttl for member in members})
            pipe.pexpire(self.key, max(int(ttl * 2000), 1))
        await pipe.execute()
        self._members = members

    async def wanted(self) -> frozenset[StreamKey]:
        """Every key some replica announced and whose announcement has not run out."""
        raw = await self._client.zrangebyscore(self.key, f"({self._clock.now()!r}", "+inf")
        keys: set[StreamKey] = set()
        for member in raw:
            text = member.decode() if isinstance(member, bytes) else str(member)
            try:
                keys.add(decode_key(text.partition("/")[2]))
            except LiveCodecError as error:
                log.warning("stream demand entry skipped", detail=str(error)[:200])
        return frozenset(keys)
