"""Per-client limits shared by every replica: a moving window per client and group in Redis.

The same rule as the in-process limiter (at most N requests in any 60 s), in one Lua script
so a request costs at most one round trip: drop the times that left the window, count, admit or tell
when the oldest counted request leaves. Times come from the Redis server's clock, so
replicas with skewed clocks still share one window.
"""

from __future__ import annotations

import asyncio
import os

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

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
    """Implements the ClientRateLimiter port on Redis (keys ``{prefix}ratelimit:{group}:{client}``).

    Requests that arrive in the same turn of the event loop are counted in one pipeline:
    each is still its own script call with its own answer, but the client library's cost
    per call (which dwarfs Redis's own) is paid once per batch.
    """

    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}ratelimit:"
        self._sha: str | None = None
        self._pending: list[tuple[str, int, str, asyncio.Future[list[int]]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def hit(self, group: str, client: str, per_minute: int) -> RateDecision:
        """Count one request; refused requests are not counted."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[list[int]] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._send_pending)
        member = os.urandom(8).hex()  # two requests in one millisecond are two requests
        self._pending.append((f"{self._prefix}{group}:{client}", per_minute, member, answer))
        allowed, remaining, wait_ms = await answer
        return RateDecision(bool(allowed), per_minute, int(remaining), max(int(wait_ms), 0) / 1000)

    async def refund(self, group: str, client: str) -> None:
        """Uncount the client's latest counted request in ``group`` (rare: not batched)."""
        await self._client.zpopmax(f"{self._prefix}{group}:{client}")

    def _send_pending(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.ensure_future(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[str, int, str, asyncio.Future[list[int]]]]) -> None:
        try:
            answers = await self._run(batch)
        except BaseException as error:  # every waiter learns of it (an outage, say)
            for *_, waiter in batch:
                if not waiter.done():
                    waiter.set_exception(error)
            if isinstance(error, asyncio.CancelledError):
                raise
            return
        for (*_, waiter), answer in zip(batch, answers, strict=True):
            if not waiter.done():  # a waiter that gave up (timeout, client gone) is skipped
                waiter.set_result(answer)

    async def _run(self, batch: list[tuple[str, int, str, asyncio.Future[list[int]]]]) -> list[list[int]]:
        for attempt in (1, 2):
            if self._sha is None:
                self._sha = await self._client.script_load(_HIT)
            pipe = self._client.pipeline(transaction=False)
            for key, per_minute, member, _ in batch:
                pipe.evalsha(self._sha, 1, key, WINDOW_MS, per_minute, member)
            try:
                return list(await pipe.execute())
            except NoScriptError:  # Redis restarted or its scripts were flushed: load again
                if attempt == 2:
                    raise
                self._sha = None
        raise AssertionError("unreachable")  # pragma: no cover
