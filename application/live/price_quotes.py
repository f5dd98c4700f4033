"""The prices channel: the combined board's quotes brought up to date by the live tickers."""

from __future__ import annotations

from collections.abc import Sequence

from application.live.sources import PriceBoards
from application.live.state import LiveState
from application.live.updates import PriceUpdate
from domain.errors import AllProvidersFailed
from domain.live import StreamKey, TickerEvent
from domain.live_quote import default_market, live_quote, same_figures
from domain.ports import Clock
from domain.quote import CombinedQuote
from domain.symbol import DEFAULT_QUOTE


def ticker_key(base: str) -> StreamKey:
    """The ticker stream an asset's live price follows."""
    return StreamKey.ticker(default_market(base))


class PriceQuotes:
    """Price snapshots and updates. Keeps the board's newest quote per asset (for the name and
    market cap no ticker carries) and the figures last sent per asset (a ticker that changes
    none of them is no update): both bounded by the supported assets."""

    def __init__(self, boards: PriceBoards, state: LiveState, clock: Clock) -> None:
        self._boards = boards
        self._state = state
        self._clock = clock
        self._board: dict[str, CombinedQuote] = {}
        self._sent: dict[str, CombinedQuote] = {}

    async def prepare(self, bases: Sequence[str]) -> None:
        """Read the board for ``bases``. Raises ``AllProvidersFailed`` only when no asset has
        a live ticker either (a snapshot then has nothing to show)."""
        try:
            served = await self._boards.execute(",".join(bases))
        except AllProvidersFailed:
            if not any(self._state.ticker(ticker_key(base)) for base in bases):
                raise
            return
        for quote in served.value.quotes:
            self._board[quote.symbol] = quote

    def take(self, bases: Sequence[str], seq: int) -> PriceUpdate:
        """The snapshot of ``bases`` now, in their order (assets nobody quotes are left out)."""
        quotes = []
        newest: int | None = None
        for base in bases:
            ticker = self._state.ticker(ticker_key(base))
            board = self._board.get(base)
            if ticker is not None:
                quotes.append(live_quote(base, board, ticker))
                newest = ticker.event_time if newest is None else max(newest, ticker.event_time)
            elif board is not None:
                quotes.append(board)
        return PriceUpdate("snapshot", tuple(quotes), newest, self._now_ms(), seq)

    def changed(self, ticker: TickerEvent) -> CombinedQuote | None:
        """The quote ``ticker`` makes of its asset, or None when it is not the asset's default
        market or changes none of the figures last sent."""
        if ticker.symbol.quote != DEFAULT_QUOTE:
            return None
        base = ticker.symbol.base
        quote = live_quote(base, self._board.get(base), ticker)
        last = self._sent.get(base)
        self._sent[base] = quote
        if last is not None and same_figures(last, quote):
            return None
        return quote

    async def refresh(self, bases: Sequence[str]) -> list[CombinedQuote]:
        """Read the board again for ``bases`` (the cached prices use case: a cache hit until
        CACHE_TTL_PRICES ran out) and return the quotes it changes: an asset without a live
        ticker follows the board itself (as the polling streams did), one with a ticker gets
        the board's new name and market cap. Nothing when no provider answers."""
        before = {base: self._board.get(base) for base in bases}
        try:
            served = await self._boards.execute(",".join(bases))
        except AllProvidersFailed:
            return []
        for quote in served.value.quotes:
            self._board[quote.symbol] = quote
        changed: list[CombinedQuote] = []
        for base in bases:
            board = self._board.get(base)
            if board is None:
                continue
            ticker = self._state.ticker(ticker_key(base))
            quote = board if ticker is None else live_quote(base, board, ticker)
            last = self._sent.get(base, before[base] if ticker is None else None)
            if last is not None and same_figures(last, quote):
                continue
            self._sent[base] = quote
            changed.append(quote)
        return changed

    def board_update(self, quote: CombinedQuote, seq: int) -> PriceUpdate:
        """The update that carries a quote the board changed (no exchange event time)."""
        return PriceUpdate("update", (quote,), None, self._now_ms(), seq)

    def update(self, quote: CombinedQuote, ticker: TickerEvent, seq: int) -> PriceUpdate:
        """The update that carries ``quote``."""
        return PriceUpdate("update", (quote,), ticker.event_time, self._now_ms(), seq)

    def forget(self, base: str) -> None:
        """Nobody here watches ``base`` any more: what was sent of it no longer counts."""
        self._sent.pop(base, None)

    def _now_ms(self) -> int:
        return int(self._clock.now() * 1000)
