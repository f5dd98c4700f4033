"""A raw HTTP/1.1 client over asyncio streams, for what real clients would never send, and a
fixture that serves the REST app the way ``serve`` does (its runner, its sockets), with the
service's JSON log captured."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from entrypoints.log import configure_logging
from entrypoints.serve import Service
from simulator import UpstreamSimulator
from tests.conftest import configure_test_logging, settings_for


@dataclass(frozen=True)
class Answer:
    """One HTTP response: status, headers (lower-case names), body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


class RawConnection:
    """One TCP connection to the server; bytes in, responses out."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> RawConnection:
        """Connect to 127.0.0.1:``port``."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        """Write ``data``; a server that already closed (it may stop reading early) is fine."""
        self.writer.write(data)
        try:
            await self.writer.drain()
        except ConnectionError:
            pass

    async def response(self, timeout: float = 10.0) -> Answer:
        """The next response (with a Content-Length, as this service sends them)."""
        async with asyncio.timeout(timeout):
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.split(": ", 1) for line in lines[1:] if line)
            headers = {name.lower(): value for name, value in headers.items()}
            body = await self.reader.readexactly(int(headers["content-length"]))
        return Answer(int(lines[0].split(" ")[1]), headers, body)

    async def request(self, path: str, method: str = "GET") -> Answer:
        """A well-formed request and its response, on this (kept-alive) connection."""
        await self.send(f"{method} {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        return await self.response()

    async def closed_by_server(self, timeout: float = 10.0) -> bytes:
        """Wait until the server closes; whatever it sent before (a reset counts as closed)."""
        try:
            async with asyncio.timeout(timeout):
                return await self.reader.read()
        except ConnectionResetError:
            return b""

    async def close(self) -> None:
        """Close our end."""
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass


StartService = Callable[..., Awaitable[Service]]


@pytest.fixture
async def serve(simulator: UpstreamSimulator) -> AsyncIterator[StartService]:
    """Start the REST server as ``serve`` runs it (settings overrides as keywords)."""
    started: list[Service] = []

    async def start(**overrides: Any) -> Service:
        service = Service(settings_for(simulator, shutdown_grace=1.0, **overrides), grpc=False)
        started.append(service)
        await service.start()
        return service

    yield start
    for service in started:
        await service.stop()


class ServiceLog:
    """The service's log lines (JSON), as written to stderr so far."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self._lines: list[dict[str, Any]] = []

    def lines(self) -> list[dict[str, Any]]:
        """Every line so far."""
        err = self._capsys.readouterr().err
        self._lines += [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        return list(self._lines)

    def above_info(self) -> list[dict[str, Any]]:
        """The WARNING lines and worse."""
        return [line for line in self.lines() if line["level"] not in ("debug", "info")]


@pytest.fixture
def service_log(capsys: pytest.CaptureFixture[str]) -> Iterator[ServiceLog]:
    """Logging as in production (JSON on stderr), captured."""
    configure_logging("INFO", "json", secrets=[])
    yield ServiceLog(capsys)
    configure_test_logging()


async def raw_request(
    host: str, port: int, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]
) -> Answer:
    """Send one request as the exact bytes given (plus ``Host`` and ``Connection: close``) and
    read everything until the server closes: for header values aiohttp's client will not send
    (raw bytes, say), and answers without a Content-Length (an interim 100 first, say)."""
    assert host == "127.0.0.1", "loopback only"
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
    return Answer(int(status_line.split(" ")[1]), found, body)
