"""Who a REST client is, for its limits."""

from __future__ import annotations

from aiohttp import web

from entrypoints.edge_rules import last_forwarded


def client_address(request: web.Request, trust_proxy: bool) -> str:
    """Who the client is: the peer address, or with TRUST_PROXY the address our proxy saw.

    The proxy appends the peer it saw to ``X-Forwarded-For``, so the last entry is the one
    nobody but the proxy wrote; earlier entries can be forged by the client.
    """
    forwarded = last_forwarded(request.headers.get("X-Forwarded-For")) if trust_proxy else None
    return forwarded or request.remote or "unknown"
