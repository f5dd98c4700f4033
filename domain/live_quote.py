"""A board quote brought up to date by an exchange ticker.

Prices are per base asset (BTC); tickers are per market (BTCUSDT). An asset follows the ticker
of its default market (quoted in USDT, taken as USD like the REST providers do). The ticker
gives the price, the 24-hour change and volume and the time; the name and market cap stay as
the board had them, since no exchange ticker carries them. A figure neither has stays None.
"""

from __future__ import annotations

from domain.asset import display_name
from domain.live import TickerEvent
from domain.quote import CombinedQuote
from domain.symbol import DEFAULT_QUOTE, Symbol


def default_market(base: str) -> Symbol:
    """The market whose ticker an asset's live price follows."""
    return Symbol(base, DEFAULT_QUOTE)


def live_quote(base: str, board: CombinedQuote | None, ticker: TickerEvent) -> CombinedQuote:
    """``board``'s quote of ``base`` (None when the board had none) overlaid with ``ticker``.

    The change and volume fall back to the board's figures when the ticker lacks them; the
    volume is the ticker's quote volume (USD), never its base volume.
    """
    change = ticker.change_24h
    volume = ticker.volume_quote
    if board is not None:
        change = board.change_24h if change is None else change
        volume = board.volume_24h if volume is None else volume
    return CombinedQuote(
        symbol=base,
        name=board.name if board is not None else display_name(base),
        price_usd=ticker.last,
        change_24h=change,
        volume_24h=volume,
        market_cap=board.market_cap if board is not None else None,
        last_update=ticker.event_time / 1000,
        sources=(ticker.source,),
    )


def same_figures(a: CombinedQuote, b: CombinedQuote) -> bool:
    """Whether two quotes tell a client the same market figures (their times aside)."""
    return (a.price_usd, a.change_24h, a.volume_24h, a.market_cap, a.name) == (
        b.price_usd, b.change_24h, b.volume_24h, b.market_cap, b.name,
    )  # fmt: skip
