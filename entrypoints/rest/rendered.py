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
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import orjson
from aiohttp import web

# A value no response carries, put in ``timestamp`` to find where fresh ones are spliced in.
_PLACEHOLDER = -918_273_645_546_372_819
_MARK = b'"timestamp":' + str(_PLACEHOLDER).encode()
_BYTES_DEFAULT = 8 * 1024 * 1024  # ~80 bodies of 1000 candles, ~400 of 200


class RenderedBodies:
    """A bounded LRU of encoded bodies split around their ``timestamp``."""

    def __init__(self, max_bytes: int = _BYTES_DEFAULT) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._bodies: OrderedDict[Hashable, tuple[bytes, bytes]] = OrderedDict()

    def response(self, key: Hashable, render: Callable[[], dict[str, Any]]) -> web.Response:
        """The JSON response for ``key``; ``render`` builds its body (with any timestamp) once."""
        parts = self._bodies.get(key)
        if parts is None:
            parts = self._remember(key, render())
        else:
            self._bodies.move_to_end(key)
        head, tail = parts
        body = head + str(int(time.time() * 1000)).encode() + tail
        return web.Response(body=body, content_type="application/json")

    def __len__(self) -> int:
        return len(self._bodies)

    @property
    def size(self) -> int:
        """Bytes held."""
        return self._bytes

    def _remember(self, key: Hashable, body: dict[str, Any]) -> tuple[bytes, bytes]:
        body["timestamp"] = _PLACEHOLDER
        encoded = orjson.dumps(body)
        at = encoded.index(_MARK) + len(b'"timestamp":')
        parts = (encoded[:at], encoded[at + len(str(_PLACEHOLDER)) :])
        size = len(parts[0]) + len(parts[1])
        if size > self._max_bytes:
            return parts  # too big to keep: served, not remembered
        self._bodies[key] = parts
        self._bytes += size
        while self._bytes > self._max_bytes:
            _, (head, tail) = self._bodies.popitem(last=False)
            self._bytes -= len(head) + len(tail)
        return parts
