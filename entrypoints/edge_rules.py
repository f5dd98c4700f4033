"""Rules both transports (REST and gRPC) apply at their edge, kept in one place."""

from __future__ import annotations

import math
import os
import re

from domain.fallback import UNKNOWN_RETRY_AFTER

# The REST answers' Server header: the product, without the Python and aiohttp versions.
SERVER_NAME = "crypto-data-engine"
INTERNAL_MESSAGE = "internal error; see the service logs with this request id"
# Why a live stream (WebSocket, SSE, gRPC) is refused when live streams are off.
STREAMS_OFF = "live streams are switched off on this service (STREAM_ENABLED=false)"
DEFAULT_RETRY_AFTER = math.ceil(UNKNOWN_RETRY_AFTER)  # seconds, when no provider said when to come back
# At most 64 characters, as any client input an answer repeats (../shared/API.md).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
# The longest error message either edge sends. Messages quote client input through
# domain.client_input.quoted; this is the backstop for one that would not, so a message can
# neither make a huge body nor overflow gRPC's metadata limit (8 KiB by default).
MAX_MESSAGE = 1024
# What a proxy writes for a client: an IPv4 or IPv6 address (a zone or brackets at most), or
# an obfuscated name. Anything else (bytes a cache key cannot hold, a long string) is no address.
_FORWARDED_ADDRESS = re.compile(r"[A-Za-z0-9.:_\-\[\]%]{1,64}")


def request_id(given: str | None) -> str:
    """The caller's request id when it is sane (safe to echo and log), else a new one."""
    return given if given and _REQUEST_ID.match(given) else os.urandom(16).hex()


def bounded(message: str) -> str:
    """``message`` cut to ``MAX_MESSAGE`` characters (the backstop above)."""
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def retry_after_seconds(retry_after: float | None) -> int:
    """Whole seconds to tell a client to wait, at least 1; the default when nobody knows.

    A wait that has (almost) passed is 1, not "unknown": zero is a time, not a missing one.
    """
    return DEFAULT_RETRY_AFTER if retry_after is None else max(1, math.ceil(retry_after))


def last_forwarded(header: str | None) -> str | None:
    """The last ``X-Forwarded-For`` entry: the one our own proxy wrote (earlier entries can
    be forged by the client), or None when it is not an address (the caller uses the peer's)."""
    last = (header or "").rsplit(",", 1)[-1].strip()
    return last if _FORWARDED_ADDRESS.fullmatch(last) else None
