"""A raw HTTP/1.1 client over asyncio streams, for requests aiohttp's client will not send
(raw bytes in header values, say). No tests live here."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RawAnswer:
    """One parsed answer: status, headers (names lower-cased) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


async def raw_request(
    host: str, port: int, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]
) -> RawAnswer:
    """Send one request as the exact bytes given (plus ``Host`` and ``Connection: close``)
    and read the whole answer until the server closes the connection."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = [method + b" " + target + b" HTTP/1.1", b"Host: " + host.encode(), b"Connection: close"]
        head += [name + b": " + value for name, value in headers]
        if method == b"POST":
            head.append(b"Content-Length: 0")
        writer.write(b"\r\n".join(head) + b"\r\n\r\n")
        await writer.drain()
        async with asyncio.timeout(10):
            data = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    top, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = top.decode("latin-1").split("\r\n")
    found = {}
    for line in lines:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    return RawAnswer(int(status_line.split(" ")[1]), found, body)
