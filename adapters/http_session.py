"""The one pooled aiohttp ClientSession every provider adapter shares."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp


async def client_session(
    request_timeout: float, user_agent: str, max_connections: int = 100
) -> AsyncIterator[aiohttp.ClientSession]:
    """Yield a pooled session for the service's lifetime and close it afterwards.

    ``max_connections`` should be at least the calls that can be under way at once
    (``application.upstream_concurrency``): the request timeout counts from the moment a
    call asks for a connection, so a call that had to wait for one would lose that wait from
    its REQUEST_TIMEOUT. No cap per host: every call may go to the same provider.

    Written as an async generator so the composition root can manage it as a resource.
    """
    session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=request_timeout),
        connector=aiohttp.TCPConnector(limit=max_connections, limit_per_host=0, ttl_dns_cache=300),
        headers={"User-Agent": user_agent, "Accept": "application/json"},
        raise_for_status=False,
    )
    try:
        yield session
    finally:
        await session.close()
