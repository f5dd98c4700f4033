"""Sandbox mode at the REST edge: every answer says that its data is simulated.

Registered only in sandbox mode, so production answers are untouched: every response
(errors, 404s, docs, health, metrics...) gets ``X-Data-Mode: sandbox``, and every JSON
object the API answers with gets ``"sandbox": true`` (health also ``"mode": "sandbox"``).
The bodies are marked by the outermost middleware, after every other one has answered,
so error envelopes made by any middleware are marked too; the data bodies are marked once,
when the answer memo keeps them (``JsonBody(mark=marked)``), so no request pays for it.
The models of ``schemas`` declare both fields, so the OpenAPI document describes them.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from entrypoints.sandbox import DATA_MODE

DATA_MODE_HEADER = "X-Data-Mode"
HEALTH_PATH = "/api/health"
_EXPOSE = "Access-Control-Expose-Headers"
# The OpenAPI document is not an API answer: a `sandbox` key would be a bogus top-level field.
_UNMARKED_PATHS = frozenset({"/openapi.json"})


async def _mark_header(request: web.Request, response: web.StreamResponse) -> None:
    response.headers[DATA_MODE_HEADER] = DATA_MODE
    # A browser app (Dreammaker) on another origin reads only the headers CORS exposes.
    exposed = response.headers.get(_EXPOSE)
    if exposed is not None and DATA_MODE_HEADER.lower() not in exposed.lower():
        response.headers[_EXPOSE] = f"{exposed}, {DATA_MODE_HEADER}"


_MARKS = b'"sandbox":true'
_HEALTH_MARKS = _MARKS + b',"mode":"' + DATA_MODE.encode() + b'"'


def marked(body: bytes, *, health: bool = False) -> bytes:
    """The JSON object ``body`` with the sandbox marks as its last keys; anything else as it is.

    Spliced in before the closing brace rather than decoded and encoded again: the bodies are
    orjson's (no whitespace, and no ``sandbox`` key unless marked), so the bytes are the same
    as encoding the object with the marks added. A body already ending with the marks is
    returned as it is, so marking twice is harmless: the data bodies are marked once, when
    the answer memo keeps them, and pass the middleware untouched.
    """
    marks = _HEALTH_MARKS if health else _MARKS
    if not (body.startswith(b"{") and body.endswith(b"}")) or body.endswith(marks + b"}"):
        return body
    return body[:-1] + (b"," if len(body) > 2 else b"") + marks + b"}"


@web.middleware
async def _mark_body(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if (
        isinstance(response, web.Response)
        and response.content_type == "application/json"
        and isinstance(response.body, bytes)
        and request.path not in _UNMARKED_PATHS
    ):
        body = response.body
        marked_body = marked(body, health=request.path == HEALTH_PATH)
        if marked_body is not body:
            response.body = marked_body
    return response


def setup_sandbox_marks(app: web.Application) -> None:
    """Mark every answer of ``app`` as simulated; call after the other middlewares are set up."""
    app.middlewares.insert(0, _mark_body)  # outermost: it sees every answer, error envelopes included
    app.on_response_prepare.append(_mark_header)
