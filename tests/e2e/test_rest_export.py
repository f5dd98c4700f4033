"""GET /api/ohlcv/export: a whole range streamed as CSV or NDJSON, page by page.

Real loopback sockets, the real container and SQLite store, recording fake exchanges behind
the history (tests/e2e/history_support.py). Expected rows are written here from the fakes'
candles, independently of the service's encoders.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from domain.candle_span import CandleSpan
from domain.errors import ProviderUnavailable
from entrypoints.rest.app import create_app
from entrypoints.rest.connections import ConnectionLimits, guarded_runner
from tests.e2e import test_rest_support as support
from tests.e2e.history_support import (
    BASE,
    HOUR,
    MINUTE,
    HistoryWorld,
    candle_json,
    csv_row,
    history_world,
    hours,
)
from tests.history_fakes import FakeHistoryProvider

simulator = support.simulator

CSV_HEADER = "timestamp,open,high,low,close,volume"
DAY = 24 * HOUR
#: 8 days of 1m candles: 11520, more than one export page (10000).
LONG_START = BASE - 10 * DAY
LONG_END = LONG_START + 8 * DAY
LONG_COUNT = 8 * 24 * 60


@pytest.fixture
def start_history(aiohttp_client: Any, simulator: Any, tmp_path: Path) -> Callable[..., Any]:
    """``world, client = await start_history(**settings)``."""

    async def start(**overrides: Any) -> tuple[HistoryWorld, Any]:
        world = history_world(simulator, tmp_path, **overrides)
        return world, await aiohttp_client(create_app(world.settings, world.container))

    return start


def export_params(start: int, end: int, **more: str) -> dict[str, str]:
    return {"symbol": "BTC", "interval": "1h", "start": str(start), "end": str(end), **more}


def minutes(start: int, count: int) -> list[int]:
    return [start + i * MINUTE for i in range(count)]


async def test_a_small_csv_export_is_exact(start_history):
    world, client = await start_history()
    world.binance.outages.append(CandleSpan(BASE + 2 * HOUR, BASE + 3 * HOUR))
    response = await client.get("/api/ohlcv/export", params=export_params(BASE, BASE + 5 * HOUR))
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="BTCUSDT-1h-20260508T000000Z-20260508T050000Z.csv"'
    )
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert response.headers["X-Request-ID"] and response.headers["Server"] == "crypto-data-engine"
    expected = [CSV_HEADER] + [csv_row(t) for t in hours(BASE, 2) + hours(BASE + 3 * HOUR, 2)]
    assert await response.text() == "\n".join(expected) + "\n"


async def test_a_small_ndjson_export_is_exact(start_history):
    world, client = await start_history()
    params = export_params(BASE, BASE + 3 * HOUR, format="ndjson")
    response = await client.get("/api/ohlcv/export", params=params)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/x-ndjson"
    assert response.headers["Content-Disposition"].endswith('-20260508T030000Z.ndjson"')
    lines = (await response.read()).split(b"\n")
    assert lines[-1] == b""
    assert [json.loads(line) for line in lines[:-1]] == [candle_json(t) for t in hours(BASE, 3)]
    assert [list(json.loads(line)) for line in lines[:-1]] == [list(candle_json(BASE))] * 3  # key order


async def test_a_multi_page_csv_export_has_every_row(start_history):
    world, client = await start_history()
    params = export_params(LONG_START, LONG_END, interval="1m")
    response = await client.get("/api/ohlcv/export", params=params)
    assert response.status == 200
    rows = (await response.text()).split("\n")
    assert rows[-1] == ""
    rows = rows[:-1]
    assert len(rows) == 1 + LONG_COUNT
    assert rows[0] == CSV_HEADER
    assert rows[1] == csv_row(LONG_START)
    assert rows[10_000] == csv_row(LONG_START + 9_999 * MINUTE)  # the last of the first page
    assert rows[10_001] == csv_row(LONG_START + 10_000 * MINUTE)  # the first of the second
    assert rows[-1] == csv_row(LONG_END - MINUTE)
    assert [int(row.split(",")[0]) for row in rows[1:]] == minutes(LONG_START, LONG_COUNT)
    assert len(world.binance.range_calls) == 12  # 1000 a call, each span fetched once


async def test_a_multi_page_ndjson_export_has_every_line(start_history):
    world, client = await start_history()
    params = export_params(LONG_START, LONG_END, interval="1m", format="ndjson")
    lines = (await (await client.get("/api/ohlcv/export", params=params)).read()).split(b"\n")[:-1]
    assert len(lines) == LONG_COUNT
    assert json.loads(lines[0]) == candle_json(LONG_START)
    assert json.loads(lines[-1]) == candle_json(LONG_END - MINUTE)


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        (export_params(BASE, BASE + HOUR, format="xml"), "INVALID_PARAMETER", "format"),
        (export_params(BASE + HOUR, BASE), "INVALID_PARAMETER", "start"),
        ({"symbol": "BTC", "interval": "1h"}, "INVALID_PARAMETER", "start"),  # start is required
        (export_params(BASE, BASE + HOUR, symbol="NOPE"), "INVALID_SYMBOL", "symbol"),
        ({**export_params(BASE, BASE + HOUR), "end": "later"}, "INVALID_PARAMETER", "end"),
    ],
)
async def test_bad_input_is_answered_before_any_byte_with_no_upstream_call(start_history, params, code, field):
    world, client = await start_history()
    response = await client.get("/api/ohlcv/export", params=params)
    body = await response.json()
    assert response.status == 400
    assert (body["error"]["code"], body["error"]["details"]) == (code, {"field": field})
    assert world.range_calls() == 0


async def test_a_range_nobody_can_give_is_a_503_envelope_not_an_empty_file(start_history):
    world, client = await start_history()
    world.binance.error = ProviderUnavailable("binance", "down for the test")
    world.kraken.error = ProviderUnavailable("kraken", "down for the test")
    response = await client.get("/api/ohlcv/export", params=export_params(BASE, BASE + HOUR))
    body = await response.json()
    assert response.status == 503
    assert response.headers["Retry-After"]
    assert body["error"]["code"] == "PROVIDER_ERROR"


def _failing_after_the_first_page(world: HistoryWorld) -> None:
    """Binance answers the first export page (10 calls of 1000) and fails from then on; Kraken is down."""
    world.binance.error = ProviderUnavailable("binance", "gone mid-export")
    world.binance.fail_after = 10
    world.kraken.error = ProviderUnavailable("kraken", "down for the test")


async def test_ndjson_ends_with_an_error_line_when_a_provider_fails_mid_stream(start_history):
    world, client = await start_history()
    _failing_after_the_first_page(world)
    params = export_params(LONG_START, LONG_END, interval="1m", format="ndjson")
    response = await client.get("/api/ohlcv/export", params=params)
    assert response.status == 200  # sent before the failure
    lines = (await response.read()).split(b"\n")
    assert lines[-1] == b""
    assert len(lines) == 10_000 + 2
    assert json.loads(lines[9_999]) == candle_json(LONG_START + 9_999 * MINUTE)
    error = json.loads(lines[10_000])
    assert list(error) == ["error"]
    assert error["error"]["code"] == "PROVIDER_ERROR"
    assert error["error"]["details"] == {"binance": "gone mid-export", "kraken": "down for the test"}
    assert error["error"]["retryAfter"] == 30


async def test_csv_is_truncated_when_a_provider_fails_mid_stream(start_history):
    world, client = await start_history()
    _failing_after_the_first_page(world)
    response = await client.get("/api/ohlcv/export", params=export_params(LONG_START, LONG_END, interval="1m"))
    assert response.status == 200
    received = bytearray()
    with pytest.raises(aiohttp.ClientPayloadError):
        async for chunk in response.content.iter_any():
            received += chunk
    rows = bytes(received).decode().split("\n")
    assert rows[0] == CSV_HEADER
    assert len(rows) == 1 + 10_000 + 1 and rows[-1] == ""  # every row sent, and no more
    assert rows[-2] == csv_row(LONG_START + 9_999 * MINUTE)


async def test_the_export_counts_against_the_ohlcv_limit(start_history):
    world, client = await start_history(rate_limit_ohlcv=2)
    first = await client.get("/api/ohlcv/export", params=export_params(BASE, BASE + HOUR))
    assert first.status == 200
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("2", "1")
    await first.read()
    second = await client.get("/api/ohlcv", params={"symbol": "BTC", "start": str(BASE), "end": str(BASE + HOUR)})
    assert second.status == 200
    third = await client.get("/api/ohlcv/export", params=export_params(BASE, BASE + HOUR))
    body = await third.json()
    assert third.status == 429
    assert body["error"]["details"] == {"limit": 2, "group": "ohlcv"}


async def test_the_export_is_counted_in_the_metrics(start_history):
    world, client = await start_history()
    await (await client.get("/api/ohlcv/export", params=export_params(BASE, BASE + HOUR))).read()
    await (await client.get("/api/ohlcv/export", params=export_params(BASE, BASE + HOUR, format="x"))).read()
    metrics = await (await client.get("/metrics")).text()
    counted = [line for line in metrics.splitlines()
               if line.startswith("cde_http_requests_total{") and 'route="/api/ohlcv/export"' in line]  # fmt: skip
    assert sorted(counted) == [
        'cde_http_requests_total{method="GET",route="/api/ohlcv/export",status="200"} 1.0',
        'cde_http_requests_total{method="GET",route="/api/ohlcv/export",status="400"} 1.0',
    ]


class _SlowHistory(FakeHistoryProvider):
    """A fake exchange taking ``delay`` seconds per range call."""

    delay: float = 0.15

    async def fetch_ohlcv_range(self, *args: Any) -> Any:
        await asyncio.sleep(self.delay)
        return await super().fetch_ohlcv_range(*args)


async def test_a_long_export_outlives_the_request_head_timeout(simulator, tmp_path):
    """The header timer is for request heads: an export running many times longer (its pages
    slow to come, over the guarded server ``serve`` runs) is not cut by it."""
    world = history_world(simulator, tmp_path, http_header_timeout=0.2)
    world.binance.__class__ = _SlowHistory
    world.binance.page_size = 100  # 12 slow calls for 1200 candles: ~1.8 s, nine header timeouts
    app = create_app(world.settings, world.container)
    runner = guarded_runner(app, limits=ConnectionLimits(64, 1000, 1100), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/api/ohlcv/export"
            params = export_params(BASE - 1000 * HOUR, BASE + 200 * HOUR)
            async with session.get(url, params=params) as response:
                assert response.status == 200
                rows = (await response.text()).split("\n")
    finally:
        await runner.cleanup()
    assert len(rows) == 1 + 1200 + 1
    assert rows[-2] == csv_row(BASE + 199 * HOUR)
    assert len(world.binance.range_calls) == 12
