"""What to answer to a request aiohttp's HTTP parser refused, before any of our code ran.

aiohttp answers those itself with a text/plain 400 that echoes the request; this maps the
parser's error to a status and an envelope code instead. The parser (llhttp, in C, unless
AIOHTTP_NO_EXTENSIONS is set) does not say whether an over-long line was the request line or
a header, so the start of the request head decides: without a line end within the limit it
was the request line (414), otherwise a header (431).

Codes: 414 URI_TOO_LONG, 431 HEADERS_TOO_LARGE and 501 NOT_IMPLEMENTED are new statuses and
get codes of their own, named like the existing ones after the status; every other refusal is
a 400 INVALID_PARAMETER, the code every framework 400 already gets (``errors._HTTP_CODES``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiohttp.http_exceptions import BadHttpMethod, HttpProcessingError, LineTooLong

from domain.client_input import QUOTE_LIMIT

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}")  # an HTTP method is a token (RFC 9110)
_TLS_RECORD = b"\x16\x03"  # a TLS handshake record: a ClientHello sent to the plain-HTTP port
ALLOWED_METHODS = ("GET", "HEAD", "POST", "OPTIONS")


@dataclass(frozen=True, slots=True)
class ParserAnswer:
    """The envelope's status, code, message and details for one refused request."""

    status: int
    code: str
    message: str
    details: dict[str, Any] | None = None


def reason_of(error: HttpProcessingError) -> str:
    """The parser's own words, cut to their first line and to ``QUOTE_LIMIT`` characters (they
    may quote the request)."""
    first = error.message.split("\n", 1)[0].rstrip(": ")
    return first[:QUOTE_LIMIT]


def answer_for(error: HttpProcessingError, head: bytes, max_line: int, max_headers: int) -> ParserAnswer:
    """The answer to ``error``; ``head`` is the start of the refused request head as received."""
    if isinstance(error, LineTooLong):
        line_end = head.find(b"\n")
        if line_end < 0 or line_end > max_line:
            return ParserAnswer(414, "URI_TOO_LONG", f"request line longer than {max_line} bytes")
        return ParserAnswer(431, "HEADERS_TOO_LARGE", f"a request header is longer than {max_line} bytes")
    if error.message.startswith("Too many headers"):
        return ParserAnswer(431, "HEADERS_TOO_LARGE", f"more than {max_headers} request headers")
    if isinstance(error, BadHttpMethod):
        if head.startswith(_TLS_RECORD):
            return ParserAnswer(400, "INVALID_PARAMETER", "TLS received on a plain-HTTP port: use http://",
                                {"reason": "tls_on_plain_port"})  # fmt: skip
        method = re.split(rb"[ \r\n]", head, maxsplit=1)[0]
        if _TOKEN.fullmatch(method):
            return ParserAnswer(501, "NOT_IMPLEMENTED", "method not implemented (methods are case-sensitive)",
                                {"allowed": list(ALLOWED_METHODS)})  # fmt: skip
    return ParserAnswer(400, "INVALID_PARAMETER", "malformed HTTP request", {"reason": reason_of(error)})
