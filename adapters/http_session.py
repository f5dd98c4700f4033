"""The one pooled aiohttp ClientSession every provider adapter shares."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp


async def client_session(request_timeout: float, user_agent: str) -> AsyncIterator[aiohttp.ClientSession]:
    """Yield a pooled session for the service's lifetime and close it afterwards.

    Written as an async generator so the composition root can manage it as a resource.
    """
    session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=request_timeout),
        connector=aiohttp.TCPConnector(limit=100, limit_per_host=20, ttl_dns_cache=300),
        headers={"User-Agent": user_agent, "Accept": "application/json"},
        raise_for_status=False,
    )
    try:
        yield session
    finally:
        await session.close()
