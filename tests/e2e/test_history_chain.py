"""/api/ohlcv ranges through the real chain: the service in process over loopback sockets → the
real Binance adapter → the simulator's history → a real SQLite store. Exact candles, exact
upstream pages, paging by ``next``, outage and listing gaps (history_chain_support)."""

from __future__ import annotations

import asyncio
from typing import Any

from simulator import UpstreamSimulator
from tests.e2e.history_chain_support import (
    HOUR,
    THIS_HOUR,
    StartHistory,
    UpstreamLog,
    chain_sim,
    hours,
    klines_query,
    sim_klines,
    start_history,
    wall,
)

__all__ = ["chain_sim", "start_history", "wall"]  # fixtures

#: 2500 closed hours ending 500 hours before the hour in progress.
START = THIS_HOUR - 3000 * HOUR
END = START + 2500 * HOUR
#: The three Binance pages of that range: 1000, 1000 and 500 candles.
PAGES = [klines_query(START + k * 1000 * HOUR, END) for k in range(3)]


async def test_a_2500_candle_range_is_exact_in_three_upstream_calls_and_free_the_second_time(
    start_history: StartHistory, chain_sim: UpstreamSimulator
) -> None:
    service = await start_history()
    upstream = UpstreamLog(chain_sim)

    body = await service.range(start=START, end=END, limit=5000)

    assert upstream.queries("binance") == PAGES
    assert upstream.queries("kraken") == []
    assert (body["count"], body["source"], body["next"], body["complete"], body["gaps"]) == (
        2500, "binance", None, True, [],
    )  # fmt: skip
    expected = await sim_klines(chain_sim, "1h", START, END)
    assert [c["timestamp"] for c in expected] == hours(START, 2500)
    assert body["data"] == expected

    upstream.mark()
    again = await service.range(start=START, end=END, limit=5000)
    assert upstream.count() == 0
    assert again["data"] == expected


async def test_pages_of_1000_by_next_add_up_to_the_whole_range_in_three_calls(
    start_history: StartHistory, chain_sim: UpstreamSimulator
) -> None:
    service = await start_history()
    upstream = UpstreamLog(chain_sim)

    pages: list[dict[str, Any]] = []
    cursor: int | None = START
    while cursor is not None:
        pages.append(await service.range(start=cursor, end=END, limit=1000))
        cursor = pages[-1]["next"]

    assert [(p["count"], p["next"], p["complete"], p["gaps"]) for p in pages] == [
        (1000, START + 1000 * HOUR, True, []), (1000, START + 2000 * HOUR, True, []), (500, None, True, []),
    ]  # fmt: skip
    assert upstream.queries("binance") == PAGES
    upstream.mark()
    whole = await service.range(start=START, end=END, limit=10000)
    assert upstream.count() == 0
    assert [c for p in pages for c in p["data"]] == whole["data"]
    assert whole["data"] == await sim_klines(chain_sim, "1h", START, END)


async def test_an_outage_inside_the_range_is_its_exact_gap_and_no_candle_is_invented(
    start_history: StartHistory, chain_sim: UpstreamSimulator
) -> None:
    start, end = THIS_HOUR - 400 * HOUR, THIS_HOUR - 100 * HOUR
    # Nothing traded from 20 minutes into hour 100 to 30 minutes into hour 110: the hours
    # wholly inside, 101 to 109, have no candle; hours 100 and 110 traded and exist.
    chain_sim.set_outage("binance", start + 100 * HOUR + 20 * 60_000, start + 110 * HOUR + 30 * 60_000)
    service = await start_history()
    upstream = UpstreamLog(chain_sim)

    body = await service.range(start=start, end=end)

    assert upstream.queries("binance") == [klines_query(start, end)]
    assert body["gaps"] == [[start + 101 * HOUR, start + 110 * HOUR]]
    assert (body["count"], body["complete"], body["next"], body["source"]) == (291, True, None, "binance")
    assert [c["timestamp"] for c in body["data"]] == hours(start, 101) + hours(start + 110 * HOUR, 190)
    assert body["data"] == await sim_klines(chain_sim, "1h", start, end)

    upstream.mark()  # the gap is known: asking again costs nothing and says the same
    again = await service.range(start=start, end=end)
    assert {**again, "timestamp": None} == {**body, "timestamp": None}
    assert upstream.count() == 0


async def test_a_range_across_the_listing_has_a_gap_from_its_start_to_the_listing(
    start_history: StartHistory, chain_sim: UpstreamSimulator
) -> None:
    listed = THIS_HOUR - 200 * HOUR + 17 * 60_000  # 17 minutes into that hour
    chain_sim.set_listing("binance", "BTCUSDT", listed)
    service = await start_history()
    upstream = UpstreamLog(chain_sim)
    start, end = THIS_HOUR - 300 * HOUR, THIS_HOUR - 150 * HOUR

    across = await service.range(start=start, end=end)
    before = await service.range(start=start - 100 * HOUR, end=start)

    assert upstream.queries("binance") == [klines_query(start, end), klines_query(start - 100 * HOUR, start)]
    first = THIS_HOUR - 200 * HOUR  # the hour that contains the listing
    assert across["gaps"] == [[start, first]]
    assert [c["timestamp"] for c in across["data"]] == hours(first, 50)
    assert across["data"] == await sim_klines(chain_sim, "1h", start, end)
    assert (across["complete"], across["next"], across["source"]) == (True, None, "binance")
    # Wholly before the listing: nothing exists, which is an answer, not an error.
    assert (before["data"], before["count"], before["gaps"], before["complete"], before["next"]) == (
        [], 0, [[start - 100 * HOUR, start]], True, None,
    )  # fmt: skip


async def test_two_requests_at_once_over_outages_across_pages_share_each_upstream_page(
    start_history: StartHistory, chain_sim: UpstreamSimulator
) -> None:
    # One outage across the end of the first upstream page, one over the range's end.
    chain_sim.set_outage("binance", START + 990 * HOUR, START + 1010 * HOUR)
    chain_sim.set_outage("binance", END - 5 * HOUR, END + 2 * HOUR)
    service = await start_history()
    upstream = UpstreamLog(chain_sim)

    first, second = await asyncio.gather(*(service.range(start=START, end=END, limit=5000) for _ in range(2)))

    # A full page of 1000 reaches 20 hours further (the outage has none): the next page starts
    # past its last candle. Both requests shared every page (single-flight).
    assert upstream.queries("binance") == [klines_query(START + at * HOUR, END) for at in (0, 1020, 2020)]
    assert {**first, "timestamp": None} == {**second, "timestamp": None}
    assert first["gaps"] == [[START + 990 * HOUR, START + 1010 * HOUR], [END - 5 * HOUR, END]]
    assert (first["count"], first["complete"], first["next"]) == (2475, True, None)
    assert [c["timestamp"] for c in first["data"]] == hours(START, 990) + hours(START + 1010 * HOUR, 1485)
    assert first["data"] == await sim_klines(chain_sim, "1h", START, END)
