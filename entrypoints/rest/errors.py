"""The error envelope and the one mapping from errors to HTTP statuses and codes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from domain.errors import (
    AllProvidersFailed,
    FeatureDisabled,
    InvalidInterval,
    InvalidParameter,
    InvalidSymbol,
)
from entrypoints.edge_rules import SERVER_NAME, bounded, retry_after_seconds
from entrypoints.rest import schemas
from entrypoints.shutdown import ShuttingDown


class ApiError(Exception):
    """An error raised at the REST edge itself (auth, routing)."""

    def __init__(
        self, status: int, code: str, message: str, details: Any = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.retry_after = retry_after  # seconds, sent as Retry-After too


_HTTP_CODES = {
    400: "INVALID_PARAMETER",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
}


def envelope(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    retry_after: int | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A response in the standard error envelope."""
    error = schemas.ErrorDetail(code=code, message=message, details=details, retry_after=retry_after)  # type: ignore[arg-type]
    body = schemas.ErrorResponse(error=error, timestamp=int(time.time() * 1000)).body()
    all_headers = dict(headers or {})
    all_headers["Server"] = SERVER_NAME  # also on envelopes made outside the middleware
    if retry_after is not None:
        all_headers["Retry-After"] = str(retry_after)
    return web.Response(
        status=status, body=orjson.dumps(body), content_type="application/json", headers=all_headers
    )


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """How a known error is answered: HTTP status, code, message, details, seconds to wait.

    The one mapping (:func:`answer_for`) serves the REST envelope and the WebSocket's
    ``{"type":"error"}`` messages alike."""

    status: int
    code: str
    message: str
    details: Any = None
    retry_after: int | None = None
    headers: dict[str, str] | None = None


def answer_for(error: BaseException) -> ErrorAnswer | None:
    """The answer to a known error, or ``None`` for a bug."""
    if isinstance(error, InvalidSymbol):
        return ErrorAnswer(400, "INVALID_SYMBOL", bounded(error.message), {"field": error.field})
    if isinstance(error, InvalidInterval):
        return ErrorAnswer(400, "INVALID_INTERVAL", bounded(error.message), {"field": error.field})
    if isinstance(error, InvalidParameter):
        return ErrorAnswer(400, "INVALID_PARAMETER", bounded(error.message), {"field": error.field})
    if isinstance(error, AllProvidersFailed):
        retry = retry_after_seconds(error.retry_after)
        return ErrorAnswer(503, "PROVIDER_ERROR", "no provider could answer and nothing is cached",
                           error.failures, retry)  # fmt: skip
    if isinstance(error, FeatureDisabled):
        return ErrorAnswer(404, "NOT_FOUND", str(error))
    if isinstance(error, ShuttingDown):
        # details.reason tells this 503 apart from the connection reserve's (same code).
        return ErrorAnswer(503, error.code, str(error), {"reason": "shutting_down"}, error.retry_after)
    if isinstance(error, ApiError):
        return ErrorAnswer(error.status, error.code, bounded(error.message), error.details, error.retry_after)
    if isinstance(error, web.HTTPException) and error.status >= 400:
        code = _HTTP_CODES.get(error.status, "INVALID_PARAMETER" if error.status < 500 else "INTERNAL_ERROR")
        headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return ErrorAnswer(error.status, code, error.reason, headers=headers)
    return None


def response_for(error: BaseException) -> web.Response | None:
    """The envelope for a known error, or ``None`` for a bug."""
    answer = answer_for(error)
    if answer is None:
        return None
    return envelope(answer.status, answer.code, answer.message, answer.details, answer.retry_after,
                    answer.headers)  # fmt: skip
