"""The REST side of the shutdown cut: cancelling the handlers aiohttp is still running."""

from __future__ import annotations

from aiohttp import web


def cancel_in_flight(server: web.Server) -> int:
    """Cancel every request handler ``server`` is running now; returns how many.

    The edge middleware turns each cancellation into a 503 envelope (see
    ``entrypoints.shutdown``), which aiohttp then writes before it closes the connection.
    aiohttp has no public handle on a connection's current request: its own shutdown reads
    ``_current_request`` the same way. ``request.task`` is the connection's task, which is
    awaiting the handler's task, so cancelling it cancels the handler. A connection between
    requests (or writing an answer already made) has no current request and is left alone.
    """
    cancelled = 0
    for connection in server.connections:
        request = getattr(connection, "_current_request", None)
        if request is not None:
            request.task.cancel()
            cancelled += 1
    return cancelled
