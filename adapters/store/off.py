"""CANDLE_STORE=off: a candle store that keeps nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from domain.candle import Candle
from domain.candle_span import CandleSpan
from domain.interval import Interval
from domain.stored_candle import StoredCandle
from domain.symbol import Symbol


class NoCandleStore:
    """``CandleStore`` that stores nothing and covers nothing: every range is fetched upstream."""

    name = "off"

    async def upsert(
        self,
        provider: str,
        symbol: Symbol,
        interval: Interval,
        candles: Sequence[Candle],
        covering: CandleSpan | None = None,
    ) -> int:
        """Keep nothing: 0 candles written."""
        return 0

    async def range(
        self,
        symbol: Symbol,
        interval: Interval,
        start_ms: int,
        end_ms: int,
        limit: int,
        provider: str | None = None,
    ) -> tuple[StoredCandle, ...]:
        """No candle is stored."""
        return ()

    async def covered(
        self, provider: str, symbol: Symbol, interval: Interval, start_ms: int, end_ms: int
    ) -> tuple[CandleSpan, ...]:
        """No span is covered."""
        return ()

    async def close(self) -> None:
        """Nothing to release."""


async def no_candle_store() -> AsyncIterator[NoCandleStore]:
    """The store for a container ``Resource``, resolved (awaited) like the other stores."""
    yield NoCandleStore()
