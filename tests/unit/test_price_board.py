"""PriceBoard.select: each request's own view of the one board of every supported asset."""

from __future__ import annotations

from domain.quote import CombinedQuote, PriceBoard

T0 = 1_700_000_000.0


def combined(base: str, *sources: str) -> CombinedQuote:
    return CombinedQuote(base, base.title(), 1.0, None, None, None, T0, tuple(sources))


BOARD = PriceBoard(
    quotes=(combined("BTC", "coingecko", "binance"), combined("ETH", "coincap"), combined("SOL", "binance")),
    sources=("coingecko", "coincap", "binance"),
    missing=("XRP",),
    failures=(("kraken", "HTTP 503"),),
)


def test_the_selection_follows_the_requests_own_order() -> None:
    chosen = BOARD.select(("SOL", "BTC"))
    assert [q.symbol for q in chosen.quotes] == ["SOL", "BTC"]
    assert chosen.missing == ()


def test_requested_but_unquoted_assets_are_missing_and_only_those() -> None:
    chosen = BOARD.select(("XRP", "ETH", "ADA"))
    assert [q.symbol for q in chosen.quotes] == ["ETH"]
    assert chosen.missing == ("XRP", "ADA")  # the board's other gaps are not this request's


def test_sources_name_only_the_providers_behind_the_selected_quotes_in_board_order() -> None:
    assert BOARD.select(("ETH",)).sources == ("coincap",)
    assert BOARD.select(("SOL", "BTC")).sources == ("coingecko", "binance")
    assert BOARD.select(("ADA",)).sources == ()


def test_the_failures_of_the_board_stay_with_every_selection() -> None:
    assert BOARD.select(("BTC",)).failures == (("kraken", "HTTP 503"),)
    assert PriceBoard((), ()).failures == ()
