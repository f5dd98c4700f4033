"""A SQLite upsert cancelled while it waits for another writer's lock leaves the store usable
(found by review: the writer connection was left inside a transaction for good)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from adapters.store.sqlite import SqliteCandleStore
from domain.candle import Candle
from domain.candle_span import CandleSpan
from domain.interval import Interval
from domain.symbol import Symbol
from tests.fakes import FakeClock

HOUR = 3_600_000
T0 = 1_700_000_000_000 // HOUR * HOUR
BTC = Symbol("BTC", "USDT")
H = Interval("1h")


async def test_an_upsert_cancelled_while_waiting_for_the_lock_leaves_the_store_writable(tmp_path: Path) -> None:
    path = str(tmp_path / "c.sqlite3")
    store = await SqliteCandleStore.open(path, FakeClock(T0 / 1000 + 100 * 3600))
    other = sqlite3.connect(path, isolation_level=None)  # another process writing: a backfill, say
    other.execute("BEGIN IMMEDIATE")
    candle = Candle(T0, 1.0, 2.0, 0.5, 1.5, 3.0)
    waiting = asyncio.ensure_future(store.upsert("binance", BTC, H, [candle], CandleSpan(T0, T0 + HOUR)))
    await asyncio.sleep(0.3)  # real time: BEGIN IMMEDIATE is waiting out busy_timeout
    waiting.cancel()  # a client gone, a deadline
    await asyncio.sleep(0)
    other.execute("COMMIT")  # the other writer finishes independently of us
    other.close()
    await asyncio.gather(waiting, return_exceptions=True)
    written = [await store.upsert("binance", BTC, H, [candle], CandleSpan(T0, T0 + HOUR)) for _ in range(2)]
    probe = sqlite3.connect(path, isolation_level=None, timeout=0.5)
    probe.execute("BEGIN IMMEDIATE")  # raises "database is locked" while our writer holds it
    probe.execute("ROLLBACK")
    probe.close()
    stored = await store.range(BTC, H, T0, T0 + HOUR, 10)
    await store.close()
    assert written == [1, 1]
    assert [s.candle for s in stored] == [candle]
