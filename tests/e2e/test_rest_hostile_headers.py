"""Whatever bytes a client puts in a header, the answer is a 4xx or the normal answer, never a 500.

aiohttp's own client refuses to send such bytes, so these requests go out as raw bytes over
a real socket (``tests.e2e.raw_http``). aiohttp decodes header values as UTF-8 with
``surrogateescape``: ``\\xe9\\xff`` arrives as two lone surrogates, which cannot be encoded again.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e import test_rest_support as support
from tests.e2e.raw_http import Answer as RawAnswer
from tests.e2e.raw_http import raw_request

simulator = support.simulator
start = support.start

HOSTILE = b"\xe9\xff"


async def send(service: Any, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> RawAnswer:
    url = service.make_url("/")
    return await raw_request(url.host, url.port, method, target, headers)


def envelope(answer: RawAnswer, status: int, code: str) -> dict[str, Any]:
    assert answer.status == status, (answer.status, answer.body[:300])
    body = answer.json()
    assert body["success"] is False and body["error"]["code"] == code, body
    assert answer.headers["x-request-id"]
    return body["error"]


@pytest.mark.parametrize(
    ("value", "status", "code"),
    [
        (b"Bearer " + HOSTILE, 403, "FORBIDDEN"),
        (b"Bearer " + HOSTILE + b"test-admin-token", 403, "FORBIDDEN"),
        (HOSTILE, 401, "UNAUTHORIZED"),
        (HOSTILE + b" token", 401, "UNAUTHORIZED"),
    ],
    ids=["bearer-bytes", "bytes-then-token", "bytes-only", "bytes-scheme"],
)
async def test_raw_bytes_in_the_admin_token_are_refused_not_a_500(start, value, status, code):
    service = await start()
    answer = await send(service, b"POST", b"/api/cache/clear", [(b"Authorization", value)])
    envelope(answer, status, code)


@pytest.mark.parametrize(
    ("target", "name"),
    [
        (b"/api/health", b"X-Request-ID"),
        (b"/api/health", b"Origin"),
        (b"/api/ohlcv?symbol=NOPE", b"X-Forwarded-For"),
        (b"/api/ohlcv?symbol=NOPE", b"Accept"),
        (b"/api/cache/stats", b"Content-Type"),
    ],
)
async def test_raw_bytes_in_other_headers_change_nothing(start, target, name):
    service = await start(trust_proxy=True, cors_origins="https://good.example")
    answer = await send(service, b"GET", target, [(name, HOSTILE)])
    if target.startswith(b"/api/ohlcv"):
        envelope(answer, 400, "INVALID_SYMBOL")
    else:
        assert answer.status == 200, answer
    assert answer.headers["x-request-id"].isascii()
    assert "access-control-allow-origin" not in answer.headers


async def test_raw_bytes_in_a_forwarded_address_do_not_break_the_shared_limits(make_service, redis_server):
    """Behind a trusted proxy the client is the last X-Forwarded-For entry, and its limits are
    counted in Redis: bytes Redis keys cannot hold are not a client address (the peer is used)."""
    service = await make_service(
        **support.fast({"trust_proxy": True, "cache_backend": "redis", "redis_url": redis_server.url})
    )
    answer = await send(service, b"GET", b"/api/ohlcv?symbol=NOPE", [(b"X-Forwarded-For", b"10.0.0.1, " + HOSTILE)])
    envelope(answer, 400, "INVALID_SYMBOL")
    assert answer.headers["x-ratelimit-remaining"] == "59"
    health = await service.get("/api/health")
    assert (await health.json())["cache"]["state"] == "ok"  # Redis was not taken for down


async def test_raw_bytes_in_a_preflight_are_not_echoed(start):
    service = await start()
    answer = await send(
        service,
        b"OPTIONS",
        b"/api/prices",
        [(b"Origin", b"https://app.example"), (b"Access-Control-Request-Method", b"GET"),
         (b"Access-Control-Request-Headers", HOSTILE)],
    )  # fmt: skip
    assert answer.status == 204, answer
    assert answer.headers["access-control-allow-headers"] == "X-Request-ID"


@pytest.mark.parametrize(
    ("method", "target", "value", "status"),
    [
        (b"GET", b"/api/health", HOSTILE, 200),
        (b"GET", b"/api/nowhere", HOSTILE, 404),
        (b"DELETE", b"/api/prices", HOSTILE, 405),
        (b"POST", b"/api/cache/clear", HOSTILE, 401),
        (b"GET", b"/api/health", b"x" * 4000, 200),
        (b"GET", b"/api/nowhere", b"x" * 4000, 404),
    ],
    ids=["bytes", "bytes-unknown-route", "bytes-wrong-method", "bytes-admin", "unknown", "unknown-unknown-route"],
)
async def test_an_unknown_expectation_is_ignored_not_a_500_or_a_bare_417(start, method, target, value, status):
    """aiohttp met it before any middleware: a 500 for raw bytes, a plain 417 echoing the
    header otherwise. RFC 9110 lets a server ignore an expectation it does not know."""
    service = await start()
    answer = await send(service, method, target, [(b"Expect", value)])
    assert answer.status == status, answer
    assert answer.headers["x-request-id"] and answer.headers["content-type"] == "application/json"
    assert b"xxxxx" not in answer.body


async def test_expect_100_continue_is_still_met(start):
    service = await start()
    answer = await send(service, b"GET", b"/api/health", [(b"Expect", b"100-continue")])
    assert answer.status == 100  # first the interim answer, then the real one
    assert answer.body.startswith(b"HTTP/1.1 200 OK\r\n")
