"""The prices channel: the board overlaid with live tickers (price, change, volume and time from
the ticker; name and market cap from the board), per-asset updates only to those who watch the
asset, and no invented figure."""

from __future__ import annotations

import pytest

from application.live.updates import PriceUpdate
from domain.errors import AllProvidersFailed, ProviderUnavailable
from domain.live import StreamKey
from domain.quote import CombinedQuote
from domain.symbol import Symbol
from tests.unit.fanout_world import OPEN_MS, live_world, ticker

T = OPEN_MS


def board_quote(base: str, price: float) -> CombinedQuote:
    """What the fake board serves for ``base``."""
    return CombinedQuote(base, f"{base} coin", price, 2.0, 5e9, 1e12, 1_700_000_000.0, ("coingecko",))


async def test_the_snapshot_is_the_board_and_a_ticker_updates_its_asset_from_the_exchange() -> None:
    w = live_world()
    inbox = w.feed.inbox()
    watch = await w.feed.watch_prices(inbox, ["btc", "ETH"])
    snapshot = watch.snapshot
    assert isinstance(snapshot, PriceUpdate)
    assert (snapshot.type, snapshot.seq, snapshot.event_time) == ("snapshot", 0, None)
    assert snapshot.quotes == (board_quote("BTC", 50_000.0), board_quote("ETH", 3_000.0))
    assert set(w.interest.watching) == {StreamKey.ticker(Symbol("BTC")), StreamKey.ticker(Symbol("ETH"))}

    w.feed.apply(ticker("BTC", 75_000.0, T + 5_000, open_24h=50_000.0, volume_quote=7.5e9))
    update = await inbox.get()
    assert isinstance(update, PriceUpdate)
    assert (update.type, update.seq, update.event_time) == ("update", 1, T + 5_000)
    (quote,) = update.quotes
    assert quote == CombinedQuote(
        "BTC", "BTC coin", 75_000.0, 50.0, 7.5e9, 1e12, (T + 5_000) / 1000, ("binance",)
    )

    later = await w.feed.watch_prices(w.feed.inbox(), "BTC,ETH")
    assert isinstance(later.snapshot, PriceUpdate)
    assert later.snapshot.quotes == (quote, board_quote("ETH", 3_000.0))
    assert (later.snapshot.seq, later.snapshot.event_time) == (1, T + 5_000)


async def test_a_ticker_without_open_or_quote_volume_keeps_the_boards_figures() -> None:
    w = live_world()
    inbox = w.feed.inbox()
    await w.feed.watch_prices(inbox, "BTC")
    w.feed.apply(ticker("BTC", 50_500.0, T + 1_000))
    update = await inbox.get()
    assert isinstance(update, PriceUpdate)
    (quote,) = update.quotes
    assert (quote.price_usd, quote.change_24h, quote.volume_24h, quote.market_cap) == (
        50_500.0,
        2.0,
        5e9,
        1e12,
    )


async def test_only_the_default_market_moves_the_price_and_unchanged_figures_are_no_update() -> None:
    w = live_world()
    inbox = w.feed.inbox()
    await w.feed.watch_prices(inbox, "BTC")
    seen = []
    for event in (
        ticker("BTC", 50_100.0, T + 1_000),
        ticker("BTC", 99_999.0, T + 1_500, quote="USDC"),  # not the market prices follow
        ticker("BTC", 50_100.0, T + 2_000),  # same figures, later: nothing new
        ticker("BTC", 50_000.0, T + 500),  # older than what is known
        ticker("BTC", 50_200.0, T + 3_000),
    ):
        w.feed.apply(event)
        while inbox.pending:
            update = await inbox.get()
            assert isinstance(update, PriceUpdate)
            seen.append((update.seq, update.quotes[0].price_usd))
    assert seen == [(1, 50_100.0), (2, 50_200.0)]


async def test_a_watch_gets_only_the_assets_it_watches_and_each_asset_waits_as_one() -> None:
    w = live_world()
    btc_only, both = w.feed.inbox(), w.feed.inbox()
    await w.feed.watch_prices(btc_only, "BTC")
    await w.feed.watch_prices(both, ["BTC", "ETH"])
    for i in range(5):
        w.feed.apply(ticker("ETH", 3_000.0 + i, T + i))
        w.feed.apply(ticker("BTC", 50_000.0 + i, T + i))
    assert (btc_only.pending, both.pending) == (1, 2)
    got = [await both.get(), await both.get()]
    assert [(u.quotes[0].symbol, u.quotes[0].price_usd) for u in got if isinstance(u, PriceUpdate)] == [
        ("ETH", 3_004.0), ("BTC", 50_004.0),
    ]  # fmt: skip
    only = await btc_only.get()
    assert only is got[1]


async def test_an_asset_the_board_lacks_is_quoted_from_its_ticker_with_nothing_invented() -> None:
    w = live_world()
    del w.board.prices["BTC"]
    inbox = w.feed.inbox()
    watch = await w.feed.watch_prices(inbox, "BTC,ETH")
    assert isinstance(watch.snapshot, PriceUpdate)
    assert [q.symbol for q in watch.snapshot.quotes] == ["ETH"]
    w.feed.apply(ticker("BTC", 50_300.0, T + 1_000))
    update = await inbox.get()
    assert isinstance(update, PriceUpdate)
    assert update.quotes == (
        CombinedQuote("BTC", "Bitcoin", 50_300.0, None, None, None, T / 1000 + 1, ("binance",)),
    )


async def test_with_the_board_down_a_snapshot_comes_from_the_live_tickers() -> None:
    w = live_world()
    await w.feed.watch_prices(w.feed.inbox(), "BTC")
    w.feed.apply(ticker("BTC", 50_300.0, T + 1_000))
    await w.infra.cache.clear()
    w.board.error = ProviderUnavailable("coingecko", "HTTP 503")
    late = await w.feed.watch_prices(w.feed.inbox(), "BTC")
    assert isinstance(late.snapshot, PriceUpdate)
    (quote,) = late.snapshot.quotes
    # The board's earlier quote is still known here: name and market cap stay as it had them.
    assert (quote.name, quote.price_usd, quote.market_cap) == ("BTC coin", 50_300.0, 1e12)
    with pytest.raises(AllProvidersFailed):
        await w.feed.watch_prices(w.feed.inbox(), "SOL")  # no board and no ticker for SOL
    assert StreamKey.ticker(Symbol("SOL")) not in w.interest.watching


async def test_every_supported_asset_when_none_is_named() -> None:
    w = live_world()
    await w.feed.watch_prices(w.feed.inbox(), None)
    assert len(w.interest.watching) == 14
    assert str(next(iter(w.interest.watching))) == "ticker:BTCUSDT"


async def test_a_board_refresh_moves_assets_without_a_ticker_and_keeps_the_tickers_prices() -> None:
    w = live_world(ttl=300.0)
    inbox = w.feed.inbox()
    await w.feed.watch_prices(inbox, "BTC,ETH")
    w.feed.apply(ticker("BTC", 75_000.0, T + 5_000))
    assert isinstance(await inbox.get(), PriceUpdate)

    await w.feed.refresh_boards()  # the cached board has not changed: nothing to send
    assert inbox.pending == 0
    w.board.prices.update({"BTC": 51_000.0, "ETH": 3_100.0})
    await w.feed.refresh_boards()  # still cached
    w.clock.advance(31)  # CACHE_TTL_PRICES (30 s in this world) ran out
    await w.feed.refresh_boards()
    update = await inbox.get()
    assert isinstance(update, PriceUpdate)
    assert (update.type, update.seq, update.event_time) == ("update", 2, None)
    assert update.quotes == (board_quote("ETH", 3_100.0),)  # BTC: its ticker's price stays
    await w.feed.refresh_boards()
    w.feed.apply(ticker("BTC", 75_001.0, T + 6_000))
    follow = await inbox.get()
    assert isinstance(follow, PriceUpdate) and follow.seq == 3  # nothing else came in between
    assert [q.price_usd for q in follow.quotes] == [75_001.0]
