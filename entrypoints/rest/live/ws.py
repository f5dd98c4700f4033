"""``GET /ws``: the live data WebSocket (messages in ../shared/API.md, "Live streams")."""

from __future__ import annotations

import functools

from aiohttp import web

from entrypoints.rest.app_keys import USE_CASES
from entrypoints.rest.errors import ApiError
from entrypoints.rest.live.edge import LIVE, live_feed
from entrypoints.rest.live.ws_session import GOING_AWAY, WsSession
from entrypoints.rest.stream_headers import apply_stream_headers

# Seconds the closing handshake may take (our close frame out, the client's back).
CLOSE_TIMEOUT = 2.0


async def websocket(request: web.Request) -> web.StreamResponse:
    """Upgrade to a WebSocket and serve it until either side closes it.

    Refused before the upgrade, in the error envelope: 404 when live streams are off, 400
    without a WebSocket handshake, 503 while the server drains. Compression is off: each
    update is encoded once and the same bytes go to every subscriber.
    """
    live = request.app[LIVE]
    feed = live_feed(request)
    limits = live.ws
    ws = web.WebSocketResponse(heartbeat=limits.heartbeat, max_msg_size=limits.max_message_size,
                               compress=False, timeout=CLOSE_TIMEOUT)  # fmt: skip
    if not ws.can_prepare(request).ok:
        raise ApiError(400, "INVALID_PARAMETER", "GET /ws upgrades to a WebSocket: send the WebSocket "
                       "handshake (Upgrade: websocket)", {"field": "Upgrade"})  # fmt: skip
    apply_stream_headers(request, ws)
    await ws.prepare(request)
    session = WsSession(ws, feed, live, request.app[USE_CASES].live_indicators)
    end = functools.partial(session.begin_close, GOING_AWAY, "server shutting down")
    live.ends.add(end)
    try:
        await session.run()
    finally:
        live.ends.discard(end)
    return ws
