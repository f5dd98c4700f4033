"""Headers of the long-lived answers (WebSocket upgrade, SSE), decided before the handler runs.

The edge middleware adds its headers (request id, CORS, rate-limit budget) to an answer after
the handler returns it; a stream's headers have been sent long before that. For the stream
routes the middleware leaves them here first, and the handler applies them before it prepares
its answer.
"""

from __future__ import annotations

from aiohttp import web

# Routes whose answer is a stream; the middleware fills STREAM_HEADERS for these only.
STREAM_PATHS = frozenset({"/ws", "/api/stream/candles", "/api/stream/prices"})
# Opening an SSE stream counts like one request of its group (its updates do not).
STREAM_GROUPS = {"/api/stream/candles": "ohlcv", "/api/stream/prices": "prices"}
STREAM_HEADERS = web.RequestKey("stream_headers", dict)


def apply_stream_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Give ``response`` (not yet prepared) the headers the middleware decided for it."""
    response.headers.update(request.get(STREAM_HEADERS) or {})
