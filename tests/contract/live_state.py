"""Subjects for the contracts of the live-stream ports (event bus, stream lease, stream
demand): the in-process adapter and the Redis adapter, two replicas of each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis

from adapters.redis_client import redis_client

#: The fixtures' params: one process, or replicas sharing a real redis-server.
LIVE_BACKENDS = ["memory", "redis"]
PREFIX = "cde:v1:"


@asynccontextmanager
async def redis_of(request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    """The service's own pooled client of the real redis-server (emptied for the test)."""
    url = request.getfixturevalue("redis_server").url
    async with asynccontextmanager(redis_client)(url, 0.5) as client:
        yield client
