"""Two replicas (real ``serve`` processes) on one PostgreSQL candle store (history_serve_support,
the throwaway server of tests/postgres_server.py): what one fetched, the other serves with no
upstream call; both fetching the same fresh range at once answer right and store each candle
once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg

from simulator import UpstreamSimulator
from tests.e2e.history_chain_support import (
    HOUR,
    UpstreamLog,
    hours,
    klines_query,
    sim_klines,
    values,
)
from tests.e2e.history_serve_support import ServeProcess, hour_now, serve_processes, spawn

__all__ = ["serve_processes"]  # fixture


async def stored_rows(database: str, start: int, end: int) -> list[Any]:
    """(open_time, copies, open, high, low, close, volume) of the BTC/USDT 1h candles stored in
    ``[start, end)``, read with asyncpg."""
    connection = await asyncpg.connect(database)
    try:
        return await connection.fetch(
            """SELECT open_time, count(*) OVER (PARTITION BY provider, market, interval, open_time) AS copies,
                      open, high, low, close, volume
               FROM candles WHERE market = 'BTC/USDT' AND interval = '1h'
                   AND open_time >= $1 AND open_time < $2
               ORDER BY open_time""",
            start, end,
        )  # fmt: skip
    finally:
        await connection.close()


async def replicas(simulator: UpstreamSimulator, tmp_path: Path, database: str,
                   started: list[ServeProcess]) -> tuple[ServeProcess, ServeProcess]:  # fmt: skip
    env = {"CANDLE_STORE": "postgres", "DATABASE_URL": database}
    a, b = await asyncio.gather(*(spawn(simulator, tmp_path / name, **env) for name in ("a", "b")))
    started += [a, b]
    return a, b


async def test_a_range_one_replica_fetched_the_other_serves_without_an_upstream_call(
    simulator: UpstreamSimulator, tmp_path: Path, postgres_database: str, serve_processes: list[ServeProcess]
) -> None:
    a, b = await replicas(simulator, tmp_path, postgres_database, serve_processes)
    start = hour_now() - 2000 * HOUR
    end = start + 1500 * HOUR
    upstream = UpstreamLog(simulator)
    upstream.mark()

    from_a = await a.range(start=start, end=end, limit=2000)
    assert upstream.queries("binance") == [klines_query(start, end), klines_query(start + 1000 * HOUR, end)]
    upstream.mark()
    from_b = await b.range(start=start, end=end, limit=2000)

    assert upstream.count() == 0
    assert {**from_b, "timestamp": None} == {**from_a, "timestamp": None}
    expected = await sim_klines(simulator, "1h", start, end)
    assert [c["timestamp"] for c in expected] == hours(start, 1500)
    assert from_b["data"] == expected
    assert (from_b["count"], from_b["next"], from_b["complete"], from_b["gaps"]) == (1500, None, True, [])


async def test_both_replicas_fetching_one_fresh_range_at_once_store_each_candle_once(
    simulator: UpstreamSimulator, tmp_path: Path, postgres_database: str, serve_processes: list[ServeProcess]
) -> None:
    a, b = await replicas(simulator, tmp_path, postgres_database, serve_processes)
    start = hour_now() - 3000 * HOUR
    end = start + 1800 * HOUR
    upstream = UpstreamLog(simulator)
    upstream.mark()

    from_a, from_b = await asyncio.gather(*(r.range(start=start, end=end, limit=2000) for r in (a, b)))

    # Each page was asked for by at least one replica (by both when they raced), no other page.
    pages = [klines_query(start, end), klines_query(start + 1000 * HOUR, end)]
    asked = {tuple(q.items()) for q in upstream.queries("binance")}
    assert sorted(asked) == sorted(tuple(p.items()) for p in pages)
    upstream.mark()
    again = [await r.range(start=start, end=end, limit=2000) for r in (a, b)]
    assert upstream.count() == 0
    expected = await sim_klines(simulator, "1h", start, end)
    assert [c["timestamp"] for c in expected] == hours(start, 1800)
    for body in (from_a, from_b, *again):
        assert body["data"] == expected
        assert (body["count"], body["next"], body["complete"], body["gaps"]) == (1800, None, True, [])
    rows = await stored_rows(postgres_database, start, end)
    assert [(r["open_time"], r["copies"]) for r in rows] == [(t, 1) for t in hours(start, 1800)]
    stored = [(r["open"], r["high"], r["low"], r["close"], r["volume"]) for r in rows]
    assert stored == [values(c) for c in expected]
