"""What the live feed reads besides the streams: the cached REST candles and price board.

Protocols rather than the use cases themselves, so the feed does not import them (``GetOhlcv``
imports the live state to overlay it, and the two must not import each other).
"""

from __future__ import annotations

from typing import Protocol

from application.served import Served
from domain.candle import CandleSeries
from domain.interval import Interval
from domain.quote import PriceBoard
from domain.symbol import Symbol


class CandleHistory(Protocol):
    """The cached candles of a market (``GetOhlcv``)."""

    def check(self, market: Symbol, interval: Interval) -> None:
        """Raise ``InvalidSymbol`` when no configured provider serves these candles."""
        ...

    async def window(
        self, market: Symbol, interval: Interval, fetched_since: float | None = None
    ) -> Served[CandleSeries]:
        """The whole cached window (fetched when missing or expired); with ``fetched_since``
        (epoch s), fetched again unless what is cached was fetched at or after it."""
        ...


class PriceBoards(Protocol):
    """The combined price board (``GetPrices``)."""

    async def execute(self, symbols: str | None) -> Served[PriceBoard]:
        """The board's quotes of ``symbols`` (a comma list; None: every supported asset)."""
        ...
