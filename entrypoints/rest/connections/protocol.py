"""The REST server's connection protocol: aiohttp's ``RequestHandler`` with the guards of
``ConnectionGuard``.

- Admission: a connection over its client's cap, or past the descriptor reserve, is closed
  at once; one inside the reserve answers only /api/health and /metrics, then closes.
- Request heads must complete within HTTP_HEADER_TIMEOUT: counted from the connection's
  start for its first request and from the first byte for later ones, whenever it arrives
  (while a handler runs too, or behind a complete request in the same read). An idle
  keep-alive connection is aiohttp's to close, after HTTP_KEEPALIVE_TIMEOUT. A client that
  had sent part of a head gets a 408 envelope (after the answers to its earlier requests),
  one that sent nothing is just closed. Bytes that end a request body and start the next
  head in the same read are not told apart (the parser does not say where the body ended):
  that head's clock starts with its next bytes, or keep-alive closes it.
- Requests the HTTP parser refuses get the error envelope (``parser_errors``) instead of
  aiohttp's text/plain echo, and one rate-limited WARNING line instead of a traceback.

The per-request cost is a few attribute reads and one ``endswith`` in ``data_received``; the
timer is per connection, re-armed at most once per HTTP_HEADER_TIMEOUT (four times, while an
overdue head waits for a handler).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import EMPTY_PAYLOAD, StreamReader
from aiohttp.web_protocol import RequestHandler, _ErrInfo
from aiohttp.web_request import BaseRequest

from entrypoints import edge_rules
from entrypoints.rest.connections.answers import envelope_response, raw_envelope
from entrypoints.rest.connections.guard import ConnectionGuard
from entrypoints.rest.connections.parser_errors import answer_for, reason_of
from entrypoints.rest.connections.registry import Admission

RESERVED_PATHS = frozenset({"/api/health", "/metrics"})  # what the descriptor reserve serves
RESERVE_RETRY_AFTER = 5  # seconds
_HEAD_END = b"\r\n\r\n"  # the blank line that ends a request head (the parser wants CRLF)
error_log = structlog.get_logger("errors")

_Handler = Callable[[BaseRequest], Awaitable[web.StreamResponse]]


def peer_host(transport: asyncio.BaseTransport) -> str:
    """The client's address as the socket sees it (never a forwarded header: at the
    connection level nothing else is known)."""
    peer = transport.get_extra_info("peername")
    if isinstance(peer, (tuple, list)) and peer:
        return str(peer[0])
    return "local" if isinstance(peer, str) else "unknown"


class GuardedRequestHandler(RequestHandler):
    """One HTTP connection of the REST server (see the module's docstring)."""

    __slots__ = ("_body", "_client", "_failed_head", "_guard", "_head", "_head_since", "_head_timer")

    def __init__(self, manager: web.Server, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = guard
        self._client: str | None = None  # None: refused (or not connected yet)
        self._head_since: float | None = None  # loop time the awaited request head started
        self._head: bytes | None = None  # its first bytes (the request line, when it matters)
        self._failed_head = b""  # the head of the request the parser refused
        self._head_timer: asyncio.TimerHandle | None = None
        self._body: StreamReader | None = None  # the body the parser is in, if any

    # -- connections ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        client = peer_host(transport)
        admission = self._guard.admit(client)
        if admission.refused:
            self._force_close = True  # anything that still arrives is ignored
            transport.close()
            return
        self._client = client
        super().connection_made(transport)
        if admission is Admission.RESERVE_ONLY:
            assert self._request_handler is not None
            self._request_handler = self._reserve_only(self._request_handler)
        loop = self._loop
        self._head_since = loop.time()
        self._head_timer = loop.call_at(self._head_since + self._guard.header_timeout, self._check_head)

    def connection_lost(self, exc: BaseException | None) -> None:
        client, self._client = self._client, None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if client is None:  # refused: never registered with the server, nothing to undo
            self._manager = None
            return
        self._guard.release(client)
        super().connection_lost(exc)

    # -- request heads --------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._payload_parser is not None:  # a WebSocket now: frames, not request heads
            super().data_received(data)
            return
        head = self._head
        if head is None:
            if self._body is None:  # the parser is between messages: these bytes begin a head
                self._head = data
                if self._head_since is None:
                    self._head_since = self._loop.time()
                    if self._head_timer is None:
                        self._arm_head_timer(self._head_since)
        elif len(head) <= self.max_line_size and b"\n" not in head:
            self._head = head + data  # a request line in pieces: kept to tell 414 from 431
        count = self._request_count
        super().data_received(data)
        if self._request_count != count:  # a head was parsed, or refused by the parser
            head, self._head = self._head, None
            self._head_since = None
            if self._upgraded:  # what follows an upgrade request is no request head
                return
            message, payload = self._messages[-1]
            if type(message) is _ErrInfo:
                self._failed_head = head or b""
            elif payload is not EMPTY_PAYLOAD:
                # A body follows. Where it ends in ``data`` is the parser's to know: the next
                # head's clock starts with the first bytes after the body is complete.
                self._body = None if payload.is_eof() else payload
            elif not data.endswith(_HEAD_END) and (len(data) >= len(_HEAD_END) or not data.endswith(b"\n")):
                self._next_head_began(data)  # ``data`` goes on past the end of the head
        elif self._body is not None and self._body.is_eof():
            self._body = None  # its body is in: what follows begins the next head

    def _next_head_began(self, data: bytes) -> None:
        """``data`` completed a head and holds the start of the next one: its clock starts."""
        end = data.rfind(_HEAD_END)
        self._head = data[end + len(_HEAD_END) :] if end >= 0 else data[data.find(b"\n") + 1 :]
        self._head_since = since = self._loop.time()
        if self._head_timer is None:
            self._arm_head_timer(since)

    def _arm_head_timer(self, since: float) -> None:
        self._head_timer = self._loop.call_at(since + self._guard.header_timeout, self._check_head)

    def _check_head(self) -> None:
        """The head timer: close the connection if the awaited head is overdue, else re-arm.

        An overdue head behind requests still being answered waits for their answers (the
        timer re-checks every quarter of the timeout): the 408 must not cut into a response.
        """
        self._head_timer = None
        since = self._head_since
        transport = self.transport
        if since is None or transport is None or self._force_close or self._close:
            return
        loop = self._loop
        timeout = self._guard.header_timeout
        now = loop.time()
        if now < since + timeout:
            self._head_timer = loop.call_at(since + timeout, self._check_head)
            return
        if self._request_in_progress or self._messages:
            self._head_timer = loop.call_at(now + timeout / 4, self._check_head)
            return
        request_id = None
        if self._head is not None:  # part of a request arrived: say why it is not answered
            request_id = edge_rules.request_id(None)
            message = f"request head not complete within {timeout:g} s"
            transport.write(raw_envelope(408, "REQUEST_TIMEOUT", message, request_id))
        self._guard.head_timed_out(self._client or "unknown", request_id)
        self.force_close()

    # -- answers outside the app ----------------------------------------------------------

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """The envelope for a request the parser refused (or, for a bug that escaped the
        app's middleware, a 500 envelope), instead of aiohttp's text/plain answer."""
        if request.writer.output_size > 0:  # an answer is half sent: nothing more can be said
            raise ConnectionError("response already partly sent; cannot send the error")
        request_id = edge_rules.request_id(None)
        if isinstance(exc, HttpProcessingError):
            answer = answer_for(exc, self._failed_head, self.max_line_size, self.max_headers)
            self._guard.malformed(answer, self._client or "unknown", request_id, reason_of(exc))
            return envelope_response(answer.status, answer.code, answer.message, request_id, answer.details)
        error_log.error("unhandled error outside the app", status=status, request_id=request_id, exc_info=exc)
        return envelope_response(500, "INTERNAL_ERROR", edge_rules.INTERNAL_MESSAGE, request_id)

    def _reserve_only(self, handler: _Handler) -> _Handler:
        """``handler`` for health and metrics, a 503 envelope for anything else; either way
        the connection closes after the answer, giving its descriptor back."""
        guard = self._guard
        client = self._client or "unknown"

        async def health_and_metrics_only(request: BaseRequest) -> web.StreamResponse:
            if request.path in RESERVED_PATHS:
                response = await handler(request)
            else:
                request_id = edge_rules.request_id(request.headers.get("X-Request-ID"))
                guard.reserve_refused(client, request.method, request.path, request_id)
                response = envelope_response(503, "SERVICE_UNAVAILABLE",
                                             "the server is at its connection limit; retry later",
                                             request_id, details={"reason": "connection_reserve"},
                                             retry_after=RESERVE_RETRY_AFTER)  # fmt: skip
            response.force_close()
            return response

        return health_and_metrics_only
