"""The error envelopes the connection layer writes itself, outside the app's middleware."""

from __future__ import annotations

from email.utils import formatdate
from http import HTTPStatus
from typing import Any

from aiohttp import web

from entrypoints.edge_rules import SERVER_NAME
from entrypoints.rest.errors import envelope


def envelope_response(
    status: int, code: str, message: str, request_id: str, details: Any = None, retry_after: int | None = None
) -> web.Response:
    """The envelope with its ``X-Request-ID``, closing the connection after it is sent."""
    response = envelope(status, code, message, details, retry_after, headers={"X-Request-ID": request_id})
    response.force_close()
    return response


def raw_envelope(status: int, code: str, message: str, request_id: str) -> bytes:
    """The envelope as the bytes of a whole HTTP/1.1 response that closes the connection, for
    a connection that has no request to answer through (a request head that never completed)."""
    body = envelope(status, code, message).body
    assert isinstance(body, bytes)
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        f"Date: {formatdate(usegmt=True)}\r\n"
        f"Server: {SERVER_NAME}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-ID: {request_id}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body
