"""Encoded response bodies, kept by what they were rendered from.

A cached value is served many times between two upstream fetches, and every one of those
answers is the same JSON except for its ``timestamp``. Rendering one through the pydantic
models and encoding it costs milliseconds for a thousand candles; splicing a fresh timestamp
into bytes kept from the first rendering costs a microsecond. The key names everything the
body depends on, ``fetched_at`` of the cache entry included, so a refreshed entry is rendered
afresh and nothing outlives its data by more than the bounded memo's own eviction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

import orjson
from aiohttp import web

from entrypoints.kept_parts import KeptParts, Parts

# A value no response carries, put in ``timestamp`` to find where fresh ones are spliced in.
_PLACEHOLDER = -918_273_645_546_372_819
_MARK = b'"timestamp":' + str(_PLACEHOLDER).encode()
_BYTES_DEFAULT = 8 * 1024 * 1024  # ~80 bodies of 1000 candles, ~400 of 200


class RenderedBodies:
    """Encoded bodies split around their ``timestamp``, kept by key (least recently used out)."""

    def __init__(self, max_bytes: int = _BYTES_DEFAULT) -> None:
        self._bodies = KeptParts(max_bytes)

    def response(self, key: Hashable, render: Callable[[], dict[str, Any]]) -> web.Response:
        """The JSON response for ``key``; ``render`` builds its body (with any timestamp) once."""
        parts = self._bodies.get(key)
        if parts is None:
            parts = _split(render())
            self._bodies.put(key, parts)
        head, tail = parts
        body = head + str(int(time.time() * 1000)).encode() + tail
        return web.Response(body=body, content_type="application/json")

    def __len__(self) -> int:
        return len(self._bodies)

    @property
    def size(self) -> int:
        """Bytes held."""
        return self._bodies.size


def _split(body: dict[str, Any]) -> Parts:
    """The encoded ``body`` without its timestamp's value: what comes before it and after."""
    body["timestamp"] = _PLACEHOLDER
    encoded = orjson.dumps(body)
    at = encoded.index(_MARK) + len(b'"timestamp":')
    return encoded[:at], encoded[at + len(str(_PLACEHOLDER)) :]
