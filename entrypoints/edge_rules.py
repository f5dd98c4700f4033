"""Rules both transports (REST and gRPC) apply at their edge, kept in one place."""

from __future__ import annotations

import math
import os
import re

INTERNAL_MESSAGE = "internal error; see the service logs with this request id"
DEFAULT_RETRY_AFTER = 30  # seconds, when no provider said when to come back
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def request_id(given: str | None) -> str:
    """The caller's request id when it is sane (safe to echo and log), else a new one."""
    return given if given and _REQUEST_ID.match(given) else os.urandom(16).hex()


def retry_after_seconds(retry_after: float | None) -> int:
    """Whole seconds to tell a client to wait, the default when nobody knows."""
    return math.ceil(retry_after) if retry_after else DEFAULT_RETRY_AFTER


def last_forwarded(header: str | None) -> str | None:
    """The last ``X-Forwarded-For`` entry: the one our own proxy wrote (earlier entries can
    be forged by the client)."""
    last = (header or "").rsplit(",", 1)[-1].strip()
    return last or None
