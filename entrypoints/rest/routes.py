"""The REST routes of ../shared/API.md."""

from __future__ import annotations

from aiohttp import web

from entrypoints.rest import candle_export, handlers
from entrypoints.rest.docs import setup_docs
from entrypoints.rest.live import sse, ws
from entrypoints.rest.stream_headers import EXPORT_PATH, STREAM_GROUPS

# Endpoint groups with their own per-client limit (RATE_LIMIT_*); other routes are not limited.
LIMITED_GROUPS = {
    "/api/ohlcv": "ohlcv",
    "/api/indicators": "ohlcv",  # computed from the same candles, under the same limit
    "/api/prices": "prices",
    "/api/sentiment": "sentiment",
    "/api/market/overview": "market",
    **STREAM_GROUPS,
}
# Routes a browser on another origin may not use: no CORS headers, preflights refused.
ADMIN_PATHS = frozenset({"/api/cache/clear"})


def setup_routes(app: web.Application, *, metrics: bool = True) -> None:
    """Register every route (the API's own documentation included; ``openapi`` documents the rest)."""
    app.router.add_get("/api/ohlcv", handlers.ohlcv)
    # A download of a whole range (a HEAD would fetch its first page for nothing).
    app.router.add_get(EXPORT_PATH, candle_export.export, allow_head=False)
    app.router.add_get("/api/indicators", handlers.indicators)
    app.router.add_get("/api/prices", handlers.prices)
    app.router.add_get("/api/sentiment", handlers.sentiment)
    app.router.add_get("/api/market/overview", handlers.market_overview)
    app.router.add_get("/api/health", handlers.health)
    app.router.add_get("/api/cache/stats", handlers.cache_stats)
    app.router.add_post("/api/cache/clear", handlers.cache_clear)
    # Live data (a HEAD would open a stream with nothing to show for it).
    app.router.add_get("/ws", ws.websocket, allow_head=False)
    app.router.add_get("/api/stream/candles", sse.stream_candles, allow_head=False)
    app.router.add_get("/api/stream/prices", sse.stream_prices, allow_head=False)
    if metrics:
        app.router.add_get("/metrics", handlers.metrics)
    setup_docs(app)
