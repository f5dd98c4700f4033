"""Headers of the long-lived answers (WebSocket upgrade, SSE, candle export), decided before
the handler runs.

The edge middleware adds its headers (request id, CORS, rate-limit budget) to an answer after
the handler returns it; a stream's headers have been sent long before that. For the stream
routes the middleware leaves them here first, and the handler applies them before it prepares
its answer.
"""

from __future__ import annotations

from aiohttp import web

# The live data routes: they stay open until either side ends them.
LIVE_PATHS = frozenset({"/ws", "/api/stream/candles", "/api/stream/prices"})
# The candle export: a download of a whole range, written page by page as it is fetched.
EXPORT_PATH = "/api/ohlcv/export"
# Routes whose answer is a stream; the middleware fills STREAM_HEADERS for these only.
STREAM_PATHS = LIVE_PATHS | {EXPORT_PATH}
# Opening an SSE stream or an export counts like one request of its group (what it then
# sends does not).
STREAM_GROUPS = {"/api/stream/candles": "ohlcv", "/api/stream/prices": "prices", EXPORT_PATH: "ohlcv"}
STREAM_HEADERS = web.RequestKey("stream_headers", dict)


def apply_stream_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Give ``response`` (not yet prepared) the headers the middleware decided for it."""
    response.headers.update(request.get(STREAM_HEADERS) or {})
