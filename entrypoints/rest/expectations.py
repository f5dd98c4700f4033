"""The ``Expect`` request header: ``100-continue`` is honoured, any other expectation ignored.

aiohttp meets expectations itself, before any middleware runs: an unknown one gets a
plain-text 417 outside the error envelope that echoes the whole header ("Unknown Expect: …"),
and one holding raw bytes a 500, since that text cannot be encoded back. RFC 9110 (10.1.1)
lets a server ignore an expectation it does not know, so this service does: the request is
then answered as if the header were absent, in the envelope and with its request id.
"""

from __future__ import annotations

from aiohttp import hdrs, web, web_urldispatcher
from aiohttp.http import HttpVersion11


async def meet_expectation(request: web.Request) -> None:
    """Send ``100 Continue`` to an HTTP/1.1 client that asks for it; ignore anything else."""
    if request.version == HttpVersion11 and request.headers.get(hdrs.EXPECT, "").lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # as aiohttp does: the body has not started yet


def ignore_unknown_expectations() -> None:
    """Make :func:`meet_expectation` aiohttp's default expect handler.

    Routes take an ``expect_handler`` of their own, but the routes aiohttp makes for an
    unknown path or method (404, 405) always use the module's default, so the default is
    what must change. Idempotent; a renamed default in a future aiohttp fails
    tests/e2e/test_rest_hostile_headers.py rather than passing silently.
    """
    if not hasattr(web_urldispatcher, "_default_expect_handler"):
        raise RuntimeError("aiohttp has no _default_expect_handler: see entrypoints/rest/expectations.py")
    web_urldispatcher._default_expect_handler = meet_expectation  # type: ignore[assignment]
