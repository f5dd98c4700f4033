"""The candle store in one SQLite file (the embedded default), off the event loop (aiosqlite).

Prices and volumes are stored as REAL, SQLite's 8-byte IEEE double: the very floats the domain
parsed from the exchange's decimal strings, read back bit for bit. WAL lets readers go on while
a write commits; ``busy_timeout`` makes a second process wait for the lock instead of failing.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiosqlite

from adapters.store.keys import market_key
from domain.candle import Candle
from domain.candle_span import CandleSpan, merge_spans
from domain.candle_store_batch import CandleStoreBatch
from domain.interval import Interval
from domain.ports import Clock
from domain.stored_candle import StoredCandle
from domain.symbol import Symbol

SCHEMA_VERSION = 1
_SCHEMA = (
    # WITHOUT ROWID: the key is the table, so a candle is stored once, not twice (row + index).
    """CREATE TABLE IF NOT EXISTS candles (
        provider TEXT NOT NULL, market TEXT NOT NULL, interval TEXT NOT NULL, open_time INTEGER NOT NULL,
        open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL, volume REAL NOT NULL,
        PRIMARY KEY (provider, market, interval, open_time)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS covered_spans (
        provider TEXT NOT NULL, market TEXT NOT NULL, interval TEXT NOT NULL,
        start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,
        PRIMARY KEY (provider, market, interval, start_ms)
    ) WITHOUT ROWID""",
)
_UPSERT = """INSERT INTO candles (provider, market, interval, open_time, open, high, low, close, volume)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (provider, market, interval, open_time) DO UPDATE SET
    open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
    volume = excluded.volume"""
_COLUMNS = "provider, open_time, open, high, low, close, volume"


class SqliteCandleStore:
    """``CandleStore`` in a SQLite file: one connection writes (behind a lock, one transaction
    at a time), another reads. Build it with :meth:`open`."""

    name = "sqlite"

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection, clock: Clock) -> None:
        self._writer = writer
        self._reader = reader
        self._clock = clock
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str, clock: Clock, busy_timeout_ms: int = 5000) -> SqliteCandleStore:
        """Open (creating the file, its directories and the schema when missing) the store at
        ``path``."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        writer = await _connect(path, busy_timeout_ms)
        try:
            await writer.execute("PRAGMA journal_mode=WAL")
            await writer.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
            await _migrate(writer)
            reader = await _connect(path, busy_timeout_ms)
        except BaseException:
            await writer.close()
            raise
        return cls(writer, reader, clock)

    async def upsert(
        self,
        provider: str,
        symbol: Symbol,
        interval: Interval,
        candles: Sequence[Candle],
        covering: CandleSpan | None = None,
    ) -> int:
        """See ``CandleStore.upsert``."""
        batch = CandleStoreBatch.of(candles, interval, int(self._clock.now() * 1000), covering)
        key = (provider, market_key(symbol), interval.name)
        rows = [(*key, c.timestamp, c.open, c.high, c.low, c.close, c.volume) for c in batch.candles]
        async with self._write_lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
                if rows:
                    await self._writer.executemany(_UPSERT, rows)
                if batch.covering is not None:
                    await self._cover(key, batch.covering)
                await self._writer.execute("COMMIT")
            except BaseException:
                # Cancelled while BEGIN waited for another writer's lock, aiosqlite still runs
                # it: the rollback, queued after it on the same thread, always ends it.
                await asyncio.shield(self._roll_back())
                raise
        return len(rows)

    async def _roll_back(self) -> None:
        try:
            await self._writer.execute("ROLLBACK")
        except sqlite3.OperationalError:  # no transaction began: nothing to undo
            pass

    async def _cover(self, key: tuple[str, str, str], span: CandleSpan) -> None:
        where = "provider = ? AND market = ? AND interval = ? AND start_ms <= ? AND end_ms >= ?"
        bounds = (*key, span.end_ms, span.start_ms)  # overlapping or touching
        async with self._writer.execute(f"SELECT start_ms, end_ms FROM covered_spans WHERE {where}", bounds) as cur:
            touching = [CandleSpan(start, end) async for start, end in cur]
        (merged,) = merge_spans([span, *touching])
        await self._writer.execute(f"DELETE FROM covered_spans WHERE {where}", bounds)
        await self._writer.execute(
            "INSERT INTO covered_spans (provider, market, interval, start_ms, end_ms) VALUES (?, ?, ?, ?, ?)",
            (*key, merged.start_ms, merged.end_ms),
        )

    async def range(
        self,
        symbol: Symbol,
        interval: Interval,
        start_ms: int,
        end_ms: int,
        limit: int,
        provider: str | None = None,
    ) -> tuple[StoredCandle, ...]:
        """See ``CandleStore.range``."""
        where = "market = ? AND interval = ? AND open_time >= ? AND open_time < ?"
        params: tuple[object, ...] = (market_key(symbol), interval.name, start_ms, end_ms)
        if provider is not None:
            where, params = "provider = ? AND " + where, (provider, *params)
        sql = f"SELECT {_COLUMNS} FROM candles WHERE {where} ORDER BY open_time, provider LIMIT ?"
        async with self._reader.execute(sql, (*params, limit)) as cursor:
            rows = await cursor.fetchall()  # one trip to its thread, not one per 64 rows
        return tuple(StoredCandle(row[0], Candle(*row[1:])) for row in rows)

    async def covered(
        self, provider: str, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int
    ) -> tuple[CandleSpan, ...]:
        """See ``CandleStore.covered``."""
        sql = """SELECT start_ms, end_ms FROM covered_spans
            WHERE provider = ? AND market = ? AND interval = ? AND start_ms < ? AND end_ms > ?
            ORDER BY start_ms"""
        params = (provider, market_key(symbol), interval.name, end_ms, start_ms)
        async with self._reader.execute(sql, params) as cursor:
            spans = [CandleSpan(start, end).clipped(start_ms, end_ms) async for start, end in cursor]
        return merge_spans(s for s in spans if s is not None)

    async def close(self) -> None:
        """See ``CandleStore.close``."""
        await self._reader.close()
        await self._writer.close()


async def _connect(path: str, busy_timeout_ms: int) -> aiosqlite.Connection:
    # isolation_level=None: no implicit transactions; upsert opens its own BEGIN IMMEDIATE.
    connection = await aiosqlite.connect(path, isolation_level=None)
    await connection.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    return connection


async def _migrate(connection: aiosqlite.Connection) -> None:
    """Create the schema, or refuse a file written by a newer version of this service."""
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise RuntimeError(f"candle store schema {version} is newer than this service's ({SCHEMA_VERSION})")
    await connection.execute("BEGIN IMMEDIATE")
    for statement in _SCHEMA:
        await connection.execute(statement)
    await connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    await connection.execute("COMMIT")


async def sqlite_candle_store(path: str, clock: Clock) -> AsyncIterator[SqliteCandleStore]:
    """The store at ``path`` for a container ``Resource``: opened at start, closed at the end."""
    store = await SqliteCandleStore.open(path, clock)
    try:
        yield store
    finally:
        await store.close()
