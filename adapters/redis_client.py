"""The pooled Redis client shared by every Redis adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError


def connection_options(op_timeout: float) -> dict[str, Any]:
    """Options for every Redis connection of this service.

    Each call is bounded by ``op_timeout``. One immediate retry on a connection error lets a
    pooled connection that died with a Redis restart reconnect instead of failing the call.
    """
    return {
        "socket_timeout": op_timeout,
        "socket_connect_timeout": op_timeout,
        "retry": Retry(NoBackoff(), 1),
        "retry_on_error": [RedisConnectionError],
        "health_check_interval": 15,
    }


async def redis_client(url: str, op_timeout: float, max_connections: int = 128) -> AsyncIterator[Redis]:
    """Yield a pooled client; a burst waits for a free connection rather than failing.

    Creating it does not connect, so a Redis that is down at start-up costs nothing: the
    adapters fall back to in-process state until it answers.
    """
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=op_timeout, **connection_options(op_timeout)
    )
    client = Redis(connection_pool=pool)
    try:
        yield client
    finally:
        await client.aclose()
        await pool.aclose()
