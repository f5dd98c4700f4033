"""GET /api/ohlcv with ``start``: one page of a candle range, with next, complete and gaps.

Over a real loopback socket, the real container and SQLite store; the exchanges behind the
history are recording fakes (tests/e2e/history_support.py) on the service's clock, so every
candle, cursor and gap is known exactly, and so is every upstream call.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from domain.candle_span import CandleSpan
from domain.errors import ProviderUnavailable
from entrypoints.rest.app import create_app
from entrypoints.rest.app_keys import ANSWERS
from tests.e2e import test_rest_support as support
from tests.e2e.history_support import (
    BASE,
    HOUR,
    HOUR_IN_PROGRESS,
    NOW_MS,
    HistoryWorld,
    candle_json,
    history_world,
    hours,
)
from tests.e2e.test_rest_support import binance_candles

# The simulator's market clock is frozen at the service's fake time (the same instant), so the
# candle in progress is the same for both.
simulator = support.simulator

RANGE_KEYS = ["success", "timestamp", "stale", "data", "symbol", "interval", "count", "source", "live",
              "next", "complete", "gaps"]  # fmt: skip
UPSTREAM_PATHS = ("/api/v3/klines", "/0/public/OHLC")


@pytest.fixture
def start_history(aiohttp_client: Any, simulator: Any, tmp_path: Path) -> Callable[..., Any]:
    """``world, client = await start_history(**settings)``."""

    async def start(**overrides: Any) -> tuple[HistoryWorld, Any]:
        world = history_world(simulator, tmp_path, **overrides)
        return world, await aiohttp_client(create_app(world.settings, world.container))

    return start


async def page(client: Any, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/ohlcv", params={"symbol": "BTC", "interval": "1h", **params})
    body = await response.json()
    assert response.status == 200, body
    return body


async def test_a_range_page_has_every_field_exact(start_history):
    world, client = await start_history()
    body = await page(client, start=str(BASE), end=str(BASE + 200 * HOUR), limit="50")
    assert list(body) == RANGE_KEYS
    assert body["data"] == [candle_json(t) for t in hours(BASE, 50)]
    assert {k: body[k] for k in RANGE_KEYS if k not in ("timestamp", "data")} == {
        "success": True, "stale": False, "symbol": "BTCUSDT", "interval": "1h", "count": 50,
        "source": "binance", "live": False, "next": BASE + 50 * HOUR, "complete": True, "gaps": [],
    }  # fmt: skip
    assert world.binance.range_calls == [(BASE, BASE + 200 * HOUR)]  # one upstream page, then stored


async def test_paging_by_next_until_null_gives_the_whole_range_once(start_history):
    world, client = await start_history()
    end = BASE + 200 * HOUR
    cursor: int | None = BASE
    pages: list[dict[str, Any]] = []
    while cursor is not None:
        pages.append(await page(client, start=str(cursor), end=str(end), limit="70"))
        cursor = pages[-1]["next"]
    assert [p["count"] for p in pages] == [70, 70, 60]
    assert [p["next"] for p in pages] == [BASE + 70 * HOUR, BASE + 140 * HOUR, None]
    assert [c["timestamp"] for p in pages for c in p["data"]] == hours(BASE, 200)
    assert world.binance.range_calls == [(BASE, end)]  # later pages come from the store


async def test_an_outage_is_reported_as_its_exact_gap_and_never_filled(start_history):
    world, client = await start_history()
    world.binance.outages.append(CandleSpan(BASE + 10 * HOUR, BASE + 15 * HOUR))
    body = await page(client, start=str(BASE), end=str(BASE + 30 * HOUR))
    assert [c["timestamp"] for c in body["data"]] == hours(BASE, 10) + hours(BASE + 15 * HOUR, 15)
    assert body["gaps"] == [[BASE + 10 * HOUR, BASE + 15 * HOUR]]
    assert (body["count"], body["complete"], body["next"]) == (25, True, None)


async def test_iso_times_and_the_default_page_size(start_history):
    world, client = await start_history()
    body = await page(client, start="2026-04-01T00:00:00Z", end="2026-05-28")
    first = 1_775_001_600_000  # 2026-04-01T00:00:00Z
    assert body["count"] == 1000  # limit defaults to 1000 in range mode
    assert body["data"][0] == candle_json(first)
    assert body["data"][-1]["timestamp"] == first + 999 * HOUR
    assert body["next"] == first + 1000 * HOUR


async def test_a_range_without_end_ends_with_the_candle_in_progress(start_history, simulator):
    world, client = await start_history()
    body = await page(client, start=str(HOUR_IN_PROGRESS - 50 * HOUR))
    assert [c["timestamp"] for c in body["data"]] == hours(HOUR_IN_PROGRESS - 50 * HOUR, 51)
    newest = (await binance_candles(simulator, "BTCUSDT", "1h", 1))[-1]
    assert body["data"][-1] == newest  # served as /api/ohlcv serves it, not from the store
    assert (body["next"], body["complete"], body["gaps"]) == (None, True, [])


async def test_range_answers_are_never_kept_in_the_answer_memo(start_history):
    world, client = await start_history()
    memo = client.server.app[ANSWERS]
    first = await page(client, start=str(BASE), end=str(BASE + 5 * HOUR))
    world.binance.outages.append(CandleSpan(BASE + 5 * HOUR, BASE + 6 * HOUR))
    second = await page(client, start=str(BASE), end=str(BASE + 7 * HOUR))
    assert len(memo) == 0
    assert first["count"] == 5 and first["gaps"] == []
    assert second["count"] == 6 and second["gaps"] == [[BASE + 5 * HOUR, BASE + 6 * HOUR]]
    plain = await (await client.get("/api/ohlcv?symbol=BTC&interval=1h&limit=3")).json()
    assert "next" not in plain and "gaps" not in plain and "complete" not in plain
    assert plain["count"] == 3 and len(memo) == 1  # the plain answer is kept, as before


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"start": str(BASE + 10 * HOUR), "end": str(BASE)}, "INVALID_PARAMETER", "start"),  # start after end
        ({"start": str(BASE), "end": str(BASE)}, "INVALID_PARAMETER", "start"),  # empty range
        ({"start": str(NOW_MS + HOUR)}, "INVALID_PARAMETER", "start"),  # in the future
        ({"start": "yesterday"}, "INVALID_PARAMETER", "start"),
        ({"start": str(BASE), "end": "2024-13-45"}, "INVALID_PARAMETER", "end"),
        ({"start": ""}, "INVALID_PARAMETER", "start"),
        ({"end": str(BASE)}, "INVALID_PARAMETER", "end"),  # end without start
        ({"start": str(BASE), "limit": "0"}, "INVALID_PARAMETER", "limit"),
        ({"start": str(BASE), "limit": "10001"}, "INVALID_PARAMETER", "limit"),
        ({"start": str(BASE), "limit": "1e3"}, "INVALID_PARAMETER", "limit"),
        ({"start": str(BASE), "symbol": "NOPE"}, "INVALID_SYMBOL", "symbol"),
        ({"start": str(BASE), "interval": "7m"}, "INVALID_INTERVAL", "interval"),
    ],
)
async def test_bad_input_is_a_400_in_the_envelope_with_no_upstream_call(start_history, simulator, params, code, field):
    world, client = await start_history()
    response = await client.get("/api/ohlcv", params={"symbol": "BTC", "interval": "1h", **params})
    body = await response.json()
    assert response.status == 400
    assert body["success"] is False
    assert (body["error"]["code"], body["error"]["details"]) == (code, {"field": field})
    assert (world.range_calls(), world.window_calls()) == (0, 0)
    assert [r.path for r in simulator.requests if r.path in UPSTREAM_PATHS] == []


async def test_limit_above_1000_is_still_refused_without_start(start_history):
    world, client = await start_history()
    response = await client.get("/api/ohlcv", params={"symbol": "BTC", "limit": "5000"})
    assert response.status == 400
    assert (await response.json())["error"]["details"] == {"field": "limit"}


async def test_a_range_no_provider_can_give_is_a_503_provider_error(start_history):
    world, client = await start_history()
    world.binance.error = ProviderUnavailable("binance", "down for the test")
    world.kraken.error = ProviderUnavailable("kraken", "down for the test")
    response = await client.get("/api/ohlcv", params={"symbol": "BTC", "start": str(BASE), "end": str(BASE + HOUR)})
    body = await response.json()
    assert response.status == 503
    assert body["error"]["code"] == "PROVIDER_ERROR"
    assert set(body["error"]["details"]) == {"binance", "kraken"}
