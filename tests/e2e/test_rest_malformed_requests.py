"""Requests aiohttp's HTTP parser refuses before our code runs: each answered in the error
envelope with a request id, quoting at most 64 characters of the request, and logged as one
WARNING line without a traceback; a flood of them is rate limited in the log."""

from __future__ import annotations

import asyncio
import re

import pytest
from aiohttp import http_parser

from simulator import UpstreamSimulator
from tests.e2e import raw_http
from tests.e2e.raw_http import RawConnection, ServiceLog, StartService

serve = raw_http.serve
service_log = raw_http.service_log

TLS_CLIENT_HELLO = (
    bytes.fromhex("160301 00c4 01 0000c0 0303") + bytes(range(32)) + b"\x00\x00\x02\x13\x01\x01\x00"
)


def _get(
    target: bytes = b"/api/health", headers: bytes = b"Host: a\r\n", version: bytes = b"HTTP/1.1"
) -> bytes:
    return b"GET " + target + b" " + version + b"\r\n" + headers + b"\r\n"


def _post(headers: bytes, body: bytes = b"") -> bytes:
    return b"POST /api/cache/clear HTTP/1.1\r\nHost: a\r\n" + headers + b"\r\n" + body


# name: (request bytes, status, code)
CASES: dict[str, tuple[bytes, int, str]] = {
    "url over 8190 bytes": (_get(b"/api/prices?symbols=" + b"A" * 9000), 414, "URI_TOO_LONG"),
    "100 KB query": (_get(b"/api/prices?symbols=" + b"B" * 100_000), 414, "URI_TOO_LONG"),
    "64 KB header": (_get(headers=b"Host: a\r\nX-Big: " + b"C" * 65536 + b"\r\n"), 431, "HEADERS_TOO_LARGE"),
    "header name over 8190 bytes": (_get(headers=b"Host: a\r\n" + b"D" * 9000 + b": 1\r\n"), 431,
                                    "HEADERS_TOO_LARGE"),
    "200 headers": (_get(headers=b"Host: a\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(200))), 431,
                    "HEADERS_TOO_LARGE"),
    "unknown method": (b"FROBNICATE /api/health HTTP/1.1\r\nHost: a\r\n\r\n", 501, "NOT_IMPLEMENTED"),
    "lower-case method": (b"get /api/health HTTP/1.1\r\nHost: a\r\n\r\n", 501, "NOT_IMPLEMENTED"),
    "invalid UTF-8 in the path": (_get(b"/api/\xff\xfe"), 400, "INVALID_PARAMETER"),
    "control byte in the path": (_get(b"/api/\x01health"), 400, "INVALID_PARAMETER"),
    "HTTP/1.1 without Host": (_get(headers=b""), 400, "INVALID_PARAMETER"),
    "GET *": (_get(b"*"), 400, "INVALID_PARAMETER"),
    "Content-Length with Transfer-Encoding": (
        _post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"), 400, "INVALID_PARAMETER"),
    "duplicate Content-Length": (_post(b"Content-Length: 1\r\nContent-Length: 2\r\n", b"ab"), 400,
                                 "INVALID_PARAMETER"),
    "negative Content-Length": (_post(b"Content-Length: -1\r\n"), 400, "INVALID_PARAMETER"),
    "bare LF line endings": (b"GET /api/health HTTP/1.1\nHost: a\n\n", 400, "INVALID_PARAMETER"),
    "TLS ClientHello": (TLS_CLIENT_HELLO, 400, "INVALID_PARAMETER"),
    "HTTP/2 preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, "INVALID_PARAMETER"),
    "unknown HTTP version": (_get(version=b"HTTP/1.7"), 400, "INVALID_PARAMETER"),
}  # fmt: skip


def _longest_echo(request: bytes, body: bytes) -> int:
    """The length of the longest run of the request's bytes repeated in ``body``."""
    longest = 0
    for start in range(0, len(request), 16):
        size = longest + 1
        while start + size <= len(request) and request[start : start + size] in body:
            longest = size
            size += 1
    return longest


@pytest.mark.parametrize("case", list(CASES))
async def test_a_refused_request_gets_the_envelope_and_one_warning(
    serve: StartService, service_log: ServiceLog, case: str
) -> None:
    # These are the statuses of aiohttp's C parser (llhttp), which its wheels ship and it uses
    # unless AIOHTTP_NO_EXTENSIONS is set; the pure-Python parser lets some of these through
    # (an unknown method then reaches the router: a 405 envelope).
    assert http_parser.HttpRequestParser is http_parser.HttpRequestParserC
    request, status, code = CASES[case]
    service = await serve()
    client = await RawConnection.open(service.rest_port)  # type: ignore[arg-type]
    try:
        await client.send(request)
        answer = await client.response()
        assert await client.closed_by_server() == b""
    finally:
        await client.close()

    assert answer.status == status
    assert answer.headers["content-type"] == "application/json"
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"])
    assert answer.headers["server"] == "crypto-data-engine"  # no Python or aiohttp versions
    body = answer.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert _longest_echo(request, answer.body) <= 64
    warnings = service_log.above_info()
    assert [(line["level"], line["event"], line["status"], line["code"]) for line in warnings] == [
        ("warning", "malformed request refused", status, code)
    ]
    assert warnings[0]["request_id"] == answer.headers["x-request-id"]
    assert len(warnings[0]["reason"]) <= 64
    assert not any("exception" in line or "exc_info" in line for line in service_log.lines())


async def test_an_over_long_header_sent_while_a_handler_runs_gets_431(
    serve: StartService, simulator: UpstreamSimulator
) -> None:
    simulator.set_fault("alternative_me", "slow", delay=0.5)
    service = await serve()
    client = await RawConnection.open(service.rest_port)  # type: ignore[arg-type]
    try:
        await client.send(b"GET /api/sentiment HTTP/1.1\r\nHost: a\r\n\r\n")
        await asyncio.sleep(0.1)  # the handler waits for the slow upstream
        await client.send(CASES["64 KB header"][0])
        assert (await client.response()).status == 200
        answer = await client.response()
        assert await client.closed_by_server() == b""
    finally:
        await client.close()
    assert answer.status == 431
    assert answer.json()["error"]["code"] == "HEADERS_TOO_LARGE"


async def test_a_flood_of_refused_requests_logs_one_line_per_kind_per_window(
    serve: StartService, service_log: ServiceLog
) -> None:
    service = await serve()
    for _ in range(20):
        client = await RawConnection.open(service.rest_port)  # type: ignore[arg-type]
        try:
            await client.send(b"GET * HTTP/1.1\r\nHost: a\r\n\r\n")
            assert (await client.response()).status == 400
        finally:
            await client.close()
    client = await RawConnection.open(service.rest_port)  # type: ignore[arg-type]
    try:
        await client.send(b"BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n")
        assert (await client.response()).status == 501
    finally:
        await client.close()

    warnings = service_log.above_info()
    assert [(line["kind"], line["suppressed"]) for line in warnings] == [
        ("malformed:INVALID_PARAMETER", 0),
        ("malformed:NOT_IMPLEMENTED", 0),
    ]


async def test_refused_requests_are_counted_in_the_metrics(serve: StartService) -> None:
    service = await serve()
    client = await RawConnection.open(service.rest_port)  # type: ignore[arg-type]
    try:
        await client.send(CASES["url over 8190 bytes"][0])
        await client.response()
    finally:
        await client.close()
    client = await RawConnection.open(service.rest_port)  # type: ignore[arg-type]
    try:
        metrics = (await client.request("/metrics")).body.decode()
    finally:
        await client.close()
    assert 'cde_http_requests_total{method="other",route="malformed",status="414"} 1.0' in metrics
