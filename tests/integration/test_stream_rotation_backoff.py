"""A rotation request that arrives on every new connection (Binance's
``serverShutdown`` sent to each new connection while a server drains, Kraken's
``status: maintenance`` on connect) is followed by an immediate reconnect, with no backoff:
the adapter would spin through its whole connection-attempt budget in a burst (review of
issue 14). A rotation asked for before the connection came up backs off like a failure."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from aiohttp import web

from adapters.streams.binance import binance_stream
from adapters.streams.timing import BINANCE_TIMING
from domain.interval import Interval
from domain.live import StreamKey
from domain.symbol import Symbol
from tests.fakes import FakeClock
from tests.integration.stream_support import RecordingSink, running


async def test_a_server_shutdown_on_every_connect_is_not_a_reconnect_storm() -> None:
    connects = 0

    async def stream(request: web.Request) -> web.WebSocketResponse:
        nonlocal connects
        connects += 1
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"stream": "!serverShutdown", "data": {"e": "serverShutdown", "E": 1}}))
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/stream", stream)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            adapter = binance_stream(session, f"ws://127.0.0.1:{port}", FakeClock(1_700_000_000.0), BINANCE_TIMING)
            adapter.want(frozenset({StreamKey.candles(Symbol("BTC", "USDT"), Interval("1m"))}))
            sink = RecordingSink()
            async with running(adapter, sink):
                await asyncio.sleep(1.5)
    finally:
        await runner.cleanup()
    # capped exponential backoff from 1 s: at most two or three attempts in 1.5 s
    assert connects <= 3, f"{connects} connection attempts in 1.5 s"
