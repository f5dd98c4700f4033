"""Subjects for the contracts of shared state (cache, fill locks, client limits, cool-downs,
circuits): the in-process adapter, the Redis adapter and the failover wrapper over both, with
Redis up and with Redis out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis

from adapters.failover.guard import SharedBackendGuard
from adapters.redis_client import redis_client
from tests.fakes import FakeClock
from tests.redis_server import free_port

#: The fixtures' params: in-process, Redis, and the failover wrapper with Redis up and out.
BACKENDS = ["memory", "redis", "failover", "failover-redis-down"]
PREFIX = "cde:v1:"


@asynccontextmanager
async def redis_for(request: pytest.FixtureRequest, backend: str) -> AsyncIterator[Redis]:
    """The service's own pooled client: of the real redis-server (emptied), or for
    ``failover-redis-down`` of a loopback port nothing listens on, so every call fails as
    in an outage."""
    if backend == "failover-redis-down":
        url = f"redis://127.0.0.1:{free_port()}/0"
    else:
        url = request.getfixturevalue("redis_server").url
    async with asynccontextmanager(redis_client)(url, 0.5) as client:
        yield client


def standing_guard(clock: FakeClock | None = None) -> SharedBackendGuard:
    """A guard on a clock that only moves when told to: once Redis is out, it stays out."""
    return SharedBackendGuard(clock or FakeClock(), op_timeout=0.5)
