"""Helpers of the WebSocket-side self-tests: a clock the test moves, and frame reading."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp

#: Friday 2024-05-24 05:20:34.5 UTC.
NOW = 1_716_528_034.5
#: The open time (ms) of the 1m candle in progress at NOW (05:20:00).
MINUTE_OPEN_MS = 1_716_528_000_000


class MovingClock:
    """The simulator's clock: stands still until the test moves it."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def receive_json(ws: aiohttp.ClientWebSocketResponse, timeout: float = 2.0) -> Any:
    """The next text frame, parsed (fails on anything else)."""
    message = await ws.receive(timeout=timeout)
    assert message.type == aiohttp.WSMsgType.TEXT, (message.type, message.data)
    return json.loads(message.data)


async def receive_all(ws: aiohttp.ClientWebSocketResponse, count: int, timeout: float = 2.0) -> list[Any]:
    """The next ``count`` text frames, parsed."""
    return [await receive_json(ws, timeout) for _ in range(count)]


async def nothing_arrives(ws: aiohttp.ClientWebSocketResponse, seconds: float) -> bool:
    """True when no frame (other than pings the client answers) arrives within ``seconds``."""
    try:
        # receive(timeout=...) starts its timeout again after each ping it answers
        async with asyncio.timeout(seconds):
            message = await ws.receive()
    except TimeoutError:
        return True
    raise AssertionError(f"unexpected frame {message.type}: {message.data!r}")


async def eventually(predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Whether ``predicate`` turns true within ``timeout`` (polled every 10 ms)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)
    return True
