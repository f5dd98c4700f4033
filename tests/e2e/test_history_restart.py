"""History through real ``serve`` processes on one SQLite file (history_serve_support): a range
fetched before a restart costs no upstream call after it; bad range input is a 400 that never
reaches an exchange."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulator import UpstreamSimulator
from tests.e2e.history_chain_support import (
    HOUR,
    UpstreamLog,
    hours,
    klines_query,
    sim_klines,
    sqlite_rows,
    values,
)
from tests.e2e.history_serve_support import ServeProcess, hour_now, serve_processes, spawn

__all__ = ["serve_processes"]  # fixture


async def test_after_a_restart_on_the_same_sqlite_file_nothing_is_fetched_again(
    simulator: UpstreamSimulator, tmp_path: Path, serve_processes: list[ServeProcess]
) -> None:
    store = tmp_path / "store" / "candles.sqlite3"
    start = hour_now() - 2000 * HOUR
    end = start + 1500 * HOUR
    upstream = UpstreamLog(simulator)
    env = {"CANDLE_STORE": "sqlite", "CANDLE_STORE_PATH": str(store)}

    first = await spawn(simulator, tmp_path / "a", **env)
    serve_processes.append(first)
    before = await first.range(start=start, end=end, limit=2000)
    assert upstream.queries("binance") == [klines_query(start, end), klines_query(start + 1000 * HOUR, end)]
    assert await first.stop() == 0

    upstream.mark()
    second = await spawn(simulator, tmp_path / "b", **env)
    serve_processes.append(second)
    assert second.pid != first.pid
    after = await second.range(start=start, end=end, limit=2000)

    assert upstream.count() == 0
    assert {**after, "timestamp": None} == {**before, "timestamp": None}
    expected = await sim_klines(simulator, "1h", start, end)
    assert [c["timestamp"] for c in expected] == hours(start, 1500)
    assert after["data"] == expected
    assert (after["count"], after["next"], after["complete"], after["gaps"]) == (1500, None, True, [])
    stored = sqlite_rows(store)
    assert {t: stored[t] for t in hours(start, 1500)} == {c["timestamp"]: values(c) for c in expected}


async def test_bad_range_input_is_a_400_costing_no_upstream_call(
    simulator: UpstreamSimulator, tmp_path: Path, serve_processes: list[ServeProcess]
) -> None:
    upstream = UpstreamLog(simulator)
    service = await spawn(simulator, tmp_path / "a", CANDLE_STORE_PATH=str(tmp_path / "candles.sqlite3"))
    serve_processes.append(service)
    past = hour_now() - 100 * HOUR
    future = hour_now() + 10 * HOUR
    bad: dict[str, dict[str, Any]] = {
        "start after end": {"start": past + HOUR, "end": past},
        "start equal to end": {"start": past, "end": past},
        "start in the future": {"start": future},
        "unparseable start": {"start": "yesterday"},
        "unparseable end": {"start": past, "end": "2024-13-01"},
        "limit 0": {"start": past, "limit": 0},
        "limit over 10000": {"start": past, "limit": 10001},
        "limit not a number": {"start": past, "limit": "ten"},
        "end without start": {"end": past},
        "empty start": {"start": ""},
    }

    answers = {}
    for name, params in bad.items():
        answers[name] = await service.get("/api/ohlcv", symbol="BTC", interval="1h", **params)
    exported = await service.get("/api/ohlcv/export", symbol="BTC", interval="1h", start=future)

    for name, (status, body) in [*answers.items(), ("export", exported)]:
        assert (status, body["success"], body["error"]["code"]) == (400, False, "INVALID_PARAMETER"), name
    assert upstream.count() == 0
    assert simulator.requests == []  # nor any other upstream call
