"""The candle store in PostgreSQL (asyncpg, pooled), for replicas that share one store.

Prices and volumes are ``double precision``: the very floats the domain parsed from the
exchange's decimal strings, read back bit for bit. The schema is created, or migrated, at start
under an advisory lock, so replicas starting together do not race. A batch is one statement
over arrays, deduplicated first, with ``ON CONFLICT DO UPDATE``: a candle stored twice is an
update, never an error that would lose the batch (cryptofeed's failure).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import asyncpg

from adapters.store.keys import market_key
from domain.candle import Candle
from domain.candle_span import CandleSpan, merge_spans
from domain.candle_store_batch import CandleStoreBatch
from domain.interval import Interval
from domain.ports import Clock
from domain.stored_candle import StoredCandle
from domain.symbol import Symbol

SCHEMA_VERSION = 1
_MIGRATION_LOCK = 0x63_64_65_31  # any constant shared by every replica: "cde1"
#: Statements taking the schema from version ``n`` (the index) to ``n + 1``.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE candles (
            provider text NOT NULL, market text NOT NULL, interval text NOT NULL, open_time bigint NOT NULL,
            open double precision NOT NULL, high double precision NOT NULL, low double precision NOT NULL,
            close double precision NOT NULL, volume double precision NOT NULL,
            PRIMARY KEY (provider, market, interval, open_time)
        )""",
        """CREATE TABLE covered_spans (
            provider text NOT NULL, market text NOT NULL, interval text NOT NULL,
            start_ms bigint NOT NULL, end_ms bigint NOT NULL,
            PRIMARY KEY (provider, market, interval, start_ms)
        )""",
    ),
)
_UPSERT = """INSERT INTO candles (provider, market, interval, open_time, open, high, low, close, volume)
    SELECT $1, $2, $3, t, o, h, l, c, v
    FROM unnest($4::bigint[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[])
        AS batch(t, o, h, l, c, v)
    ON CONFLICT (provider, market, interval, open_time) DO UPDATE SET
    open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
    volume = excluded.volume"""
_TOUCHING = "provider = $1 AND market = $2 AND interval = $3 AND start_ms <= $4 AND end_ms >= $5"


class PostgresCandleStore:
    """``CandleStore`` in PostgreSQL over an asyncpg pool. Build it with :meth:`open`."""

    name = "postgres"

    def __init__(self, pool: asyncpg.Pool, clock: Clock) -> None:
        self._pool = pool
        self._clock = clock

    @classmethod
    async def open(cls, dsn: str, clock: Clock, min_size: int = 1, max_size: int = 10) -> PostgresCandleStore:
        """Connect to ``dsn`` and bring the schema up to date."""
        pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size)
        try:
            async with pool.acquire() as connection:
                await _migrate(connection)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, clock)

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
        kept = batch.candles
        async with self._pool.acquire() as connection, connection.transaction():
            if kept:
                await connection.execute(
                    _UPSERT, *key,
                    [c.timestamp for c in kept], [c.open for c in kept], [c.high for c in kept],
                    [c.low for c in kept], [c.close for c in kept], [c.volume for c in kept],
                )  # fmt: skip
            if batch.covering is not None:
                await _cover(connection, key, batch.covering)
        return len(kept)

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
        where = "market = $1 AND interval = $2 AND open_time >= $3 AND open_time < $4"
        params: list[object] = [market_key(symbol), interval.name, start_ms, end_ms, limit]
        if provider is not None:
            where += " AND provider = $6"
            params.append(provider)
        sql = f"""SELECT provider, open_time, open, high, low, close, volume FROM candles WHERE {where}
            ORDER BY open_time, provider COLLATE "C" LIMIT $5"""
        async with self._pool.acquire() as connection:
            rows = await connection.fetch(sql, *params)
        return tuple(StoredCandle(r[0], Candle(r[1], r[2], r[3], r[4], r[5], r[6])) for r in rows)

    async def covered(
        self, provider: str, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int
    ) -> tuple[CandleSpan, ...]:
        """See ``CandleStore.covered``."""
        sql = """SELECT start_ms, end_ms FROM covered_spans
            WHERE provider = $1 AND market = $2 AND interval = $3 AND start_ms < $4 AND end_ms > $5
            ORDER BY start_ms"""
        async with self._pool.acquire() as connection:
            rows = await connection.fetch(sql, provider, market_key(symbol), interval.name, end_ms, start_ms)
        spans = (CandleSpan(r[0], r[1]).clipped(start_ms, end_ms) for r in rows)
        return merge_spans(s for s in spans if s is not None)

    async def close(self) -> None:
        """See ``CandleStore.close``."""
        await self._pool.close()


async def _cover(connection: asyncpg.Connection, key: tuple[str, str, str], span: CandleSpan) -> None:
    # Two replicas covering the same market at once would each merge what they saw: serialise
    # them per (provider, market, interval) for the rest of the transaction.
    await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "/".join(key))
    bounds = (*key, span.end_ms, span.start_ms)  # overlapping or touching
    rows = await connection.fetch(f"DELETE FROM covered_spans WHERE {_TOUCHING} RETURNING start_ms, end_ms", *bounds)
    (merged,) = merge_spans([span, *(CandleSpan(r[0], r[1]) for r in rows)])
    await connection.execute(
        "INSERT INTO covered_spans (provider, market, interval, start_ms, end_ms) VALUES ($1, $2, $3, $4, $5)",
        *key, merged.start_ms, merged.end_ms,
    )  # fmt: skip


async def _migrate(connection: asyncpg.Connection) -> None:
    """Apply the migrations this database lacks, or refuse one written by a newer service."""
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await connection.execute("CREATE TABLE IF NOT EXISTS candle_store_schema (version integer NOT NULL)")
        version = await connection.fetchval("SELECT max(version) FROM candle_store_schema") or 0
        if version > SCHEMA_VERSION:
            raise RuntimeError(f"candle store schema {version} is newer than this service's ({SCHEMA_VERSION})")
        for statements in _MIGRATIONS[version:]:
            for statement in statements:
                await connection.execute(statement)
        if version < SCHEMA_VERSION:
            await connection.execute("DELETE FROM candle_store_schema")
            await connection.execute("INSERT INTO candle_store_schema (version) VALUES ($1)", SCHEMA_VERSION)


async def postgres_candle_store(dsn: str, clock: Clock) -> AsyncIterator[PostgresCandleStore]:
    """The store at ``dsn`` for a container ``Resource``: connected at start, closed at the end."""
    store = await PostgresCandleStore.open(dsn, clock)
    try:
        yield store
    finally:
        await store.close()
