"""Self-tests of the simulator's history: Binance ``startTime``/``endTime`` paging, Kraken's
720-bar reach, outage gaps and listing times, on REST and on the WebSocket streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from simulator import UpstreamSimulator
from tests.simulator.stream_support import MovingClock, receive_all, receive_json

#: Friday 2024-05-24 05:20:34.5 UTC.
NOW = 1_716_528_034.5
MIN = 60_000
HOUR = 3_600_000
#: Open times (ms) of the 1h and 1m bars in progress at NOW (05:00 and 05:20).
H0 = 1_716_526_800_000
M0 = 1_716_528_000_000


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock(NOW)


@pytest.fixture
async def sim(clock: MovingClock) -> AsyncIterator[UpstreamSimulator]:
    async with UpstreamSimulator(now=clock, seed=7) as simulator:
        yield simulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        yield session


async def get(http: aiohttp.ClientSession, url: str, **params: Any) -> tuple[int, Any]:
    async with http.get(url, params={k: str(v) for k, v in params.items()}) as response:
        return response.status, await response.json()


async def opens(
    http: aiohttp.ClientSession,
    sim: UpstreamSimulator,
    interval: str = "1h",
    symbol: str = "BTCUSDT",
    **params: Any,
) -> list[int]:
    """Open times (ms) of a klines answer."""
    status, rows = await get(
        http, sim.base_urls["binance"] + "/api/v3/klines", symbol=symbol, interval=interval, **params
    )
    assert status == 200, rows
    return [row[0] for row in rows]


async def kraken_opens(http: aiohttp.ClientSession, sim: UpstreamSimulator, **params: Any) -> list[int]:
    """Open times (s) of a Kraken OHLC answer for XBTUSD."""
    status, body = await get(http, sim.base_urls["kraken"] + "/0/public/OHLC", pair="XBTUSD", **params)
    assert status == 200 and body["error"] == [], body
    return [row[0] for row in body["result"]["XXBTZUSD"]]


def hours(*offsets: int) -> list[int]:
    return [H0 + offset * HOUR for offset in offsets]


# -- Binance startTime / endTime ---------------------------------------------------------


async def test_only_start_time_gives_the_oldest_bars_from_there(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    # a bar is returned when its open time is >= startTime: 1 ms past an open skips that bar
    assert await opens(http, sim, startTime=H0 - 10 * HOUR + 1, limit=3) == hours(-9, -8, -7)
    assert await opens(http, sim, startTime=H0 - 10 * HOUR, limit=3) == hours(-10, -9, -8)
    # near now: only up to the bar in progress
    assert await opens(http, sim, startTime=H0 - 2 * HOUR, limit=10) == hours(-2, -1, 0)
    assert await opens(http, sim, startTime=H0 + 1) == []  # the future has no bars


async def test_only_end_time_gives_the_newest_bars_up_to_there(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    # a bar is returned when its open time is <= endTime: endTime on an open includes it
    assert await opens(http, sim, endTime=H0 - 5 * HOUR, limit=3) == hours(-7, -6, -5)
    assert await opens(http, sim, endTime=H0 - 5 * HOUR - 1, limit=3) == hours(-8, -7, -6)
    assert await opens(http, sim, endTime=H0 + 10 * HOUR, limit=2) == hours(-1, 0)


async def test_both_times_start_from_start_time_and_never_pass_end_time(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    both = {"startTime": H0 - 10 * HOUR, "endTime": H0 - 8 * HOUR}
    assert await opens(http, sim, **both) == hours(-10, -9, -8)  # both ends inclusive
    assert await opens(http, sim, **both, limit=2) == hours(-10, -9)  # from start, not the newest
    assert await opens(http, sim, startTime=H0 - 10 * HOUR, endTime=H0 - 8 * HOUR - 1) == hours(-10, -9)
    assert await opens(http, sim, startTime=H0 - 5 * HOUR, endTime=H0 - 5 * HOUR) == hours(-5)
    assert await opens(http, sim, startTime=H0 - 5 * HOUR + 1, endTime=H0 - 4 * HOUR - 1) == []


async def test_limit_default_500_max_1000(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    start = M0 - 5_000 * MIN
    default = await opens(http, sim, "1m", startTime=start)
    assert len(default) == 500 and default[0] == start and default[-1] == start + 499 * MIN
    most = await opens(http, sim, "1m", startTime=start, limit=1000)
    assert len(most) == 1000 and most[-1] == start + 999 * MIN


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": 1001}, -1130),
        ({"limit": 0}, -1130),
        ({"startTime": H0, "endTime": H0 - 1}, -1023),
        ({"startTime": "yesterday"}, -1100),
        ({"endTime": -5}, -1100),
    ],
)
async def test_bad_values_are_binance_errors(
    sim: UpstreamSimulator, http: aiohttp.ClientSession, params: dict[str, Any], code: int
) -> None:
    status, body = await get(
        http, sim.base_urls["binance"] + "/api/v3/klines", symbol="BTCUSDT", interval="1h", **params
    )
    assert status == 400 and body["code"] == code and isinstance(body["msg"], str)


async def test_paging_with_start_time_walks_a_range_without_holes_or_repeats(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    start, end = M0 - 2_500 * MIN, M0 - 1  # 2500 closed 1m bars
    pages: list[list[int]] = []
    cursor = start
    while True:
        page = await opens(http, sim, "1m", startTime=cursor, endTime=end, limit=1000)
        if not page:
            break
        pages.append(page)
        cursor = page[-1] + 1
    assert [len(page) for page in pages] == [1000, 1000, 500]
    assert [t for page in pages for t in page] == [start + i * MIN for i in range(2_500)]
    assert pages[1][0] == start + 1000 * MIN and pages[2][-1] == M0 - MIN


# -- outages and listing -----------------------------------------------------------------


async def test_outage_bars_are_skipped_not_invented(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    sim.set_outage("binance", H0 - 5 * HOUR, H0 - 2 * HOUR)
    assert await opens(http, sim, startTime=H0 - 7 * HOUR) == hours(-7, -6, -2, -1, 0)
    # a page counts existing bars: the newest 3 up to -2h reach back over the gap
    assert await opens(http, sim, endTime=H0 - 2 * HOUR, limit=3) == hours(-7, -6, -2)
    assert await opens(http, sim, startTime=H0 - 4 * HOUR, limit=2) == hours(-2, -1)  # start inside
    assert await opens(http, sim, endTime=H0 - 3 * HOUR, limit=2) == hours(-7, -6)  # end inside
    assert await opens(http, sim, startTime=H0 - 5 * HOUR, endTime=H0 - 3 * HOUR) == []
    one_minute = await opens(http, sim, "1m", startTime=H0 - 5 * HOUR - 2 * MIN, limit=5)
    assert one_minute == [H0 - 5 * HOUR - 2 * MIN, H0 - 5 * HOUR - MIN, H0 - 2 * HOUR, H0 - 2 * HOUR + MIN,
                          H0 - 2 * HOUR + 2 * MIN]  # fmt: skip
    minutes = await opens(http, sim, "1m", startTime=H0 - 6 * HOUR, endTime=H0 - HOUR - 1, limit=1000)
    assert len(minutes) == 120
    # the 4h bar 00:00-04:00 had trades at 03:00-04:00: it exists; a wider outage removes it
    four = await opens(http, sim, "4h", startTime=H0 - 9 * HOUR, limit=3)
    assert four == [H0 - 9 * HOUR, H0 - 5 * HOUR, H0 - HOUR]
    sim.set_outage("binance", H0 - 2 * HOUR, H0 - HOUR)
    assert await opens(http, sim, "4h", startTime=H0 - 9 * HOUR, limit=3) == [H0 - 9 * HOUR, H0 - HOUR]
    # an outage is the exchange's: every symbol
    assert await opens(http, sim, symbol="ETHUSDT", startTime=H0 - 4 * HOUR, limit=1) == hours(-1)


async def test_a_partly_covered_bar_exists_and_outages_merge(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    sim.set_outage("binance", H0 - 5 * HOUR + 1, H0 - 3 * HOUR)  # -5h bar had a trade in its 1st ms
    assert await opens(http, sim, startTime=H0 - 6 * HOUR, limit=4) == hours(-6, -5, -3, -2)
    sim.set_outage("binance", H0 - 3 * HOUR, H0 - 2 * HOUR)  # adjacent: one span with the first
    merged = [{"start": H0 - 5 * HOUR + 1, "end": H0 - 2 * HOUR}]
    assert sim.history("binance")["binance"]["outages"] == merged
    assert await opens(http, sim, startTime=H0 - 6 * HOUR, limit=4) == hours(-6, -5, -2, -1)


async def test_an_outage_going_on_now_has_no_bar_in_progress(
    sim: UpstreamSimulator, http: aiohttp.ClientSession, clock: MovingClock
) -> None:
    sim.set_outage("binance", M0 - 2 * MIN, M0 + 2 * MIN)
    assert await opens(http, sim, "1m", limit=2) == [M0 - 4 * MIN, M0 - 3 * MIN]
    clock.now += 2 * 60  # 05:22:34.5: trading is back since 05:22
    assert await opens(http, sim, "1m", limit=2) == [M0 - 3 * MIN, M0 + 2 * MIN]


async def test_the_bar_in_progress_appears_once_trading_resumes_inside_it(
    sim: UpstreamSimulator, http: aiohttp.ClientSession, clock: MovingClock
) -> None:
    sim.set_outage("binance", M0, M0 + 40_000)  # 05:20:00-05:20:40; now is 05:20:34.5
    assert await opens(http, sim, "1m", limit=1) == [M0 - MIN]
    clock.now += 10  # 05:20:44.5: a trade since 05:20:40
    assert await opens(http, sim, "1m", limit=1) == [M0]


def test_history_exists_knows_listing_outage_and_future() -> None:
    from simulator.binance_params import INTERVALS
    from simulator.history import History

    history = History(default_listing_s=(H0 - 3 * HOUR) // 1000)
    history.add_outage(H0 - HOUR, H0)
    hour, now = INTERVALS["1h"], NOW

    def exists(t_ms: int) -> bool:
        return history.exists("BTCUSDT", hour, t_ms // 1000, now)

    assert [exists(t) for t in hours(-4, -3, -2, -1, 0, 1)] == [False, True, True, False, True, False]
    with pytest.raises(ValueError):
        history.add_outage(5, 5)


async def test_nothing_before_a_markets_listing(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    sim.set_listing("binance", "ETHUSDT", H0 - 3 * HOUR + 30 * MIN)  # listed at 02:30
    assert await opens(http, sim, symbol="ETHUSDT", startTime=0, limit=3) == hours(-3, -2, -1)
    assert await opens(http, sim, symbol="ETHUSDT", endTime=H0 - 3 * HOUR, limit=5) == hours(-3)
    assert await opens(http, sim, symbol="ETHUSDT", endTime=H0 - 4 * HOUR) == []
    assert (await opens(http, sim, symbol="BTCUSDT", startTime=0, limit=1)) == [1_502_942_400_000]
    with pytest.raises(ValueError):
        sim.set_listing("binance", "NOPEUSDT", 0)


# -- Kraken --------------------------------------------------------------------------------


async def test_kraken_reaches_only_the_720_most_recent_bars_whatever_since_says(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    current = M0 // 1000
    window = [current - (719 - i) * 60 for i in range(720)]
    assert await kraken_opens(http, sim, interval=1) == window
    assert await kraken_opens(http, sim, interval=1, since=0) == window
    assert await kraken_opens(http, sim, interval=1, since=current - 10_000 * 60) == window
    assert await kraken_opens(http, sim, interval=1, since=current - 3 * 60) == window[-3:]
    hourly = await kraken_opens(http, sim, interval=60, since=0)
    assert len(hourly) == 720 and hourly[0] == H0 // 1000 - 719 * 3600


async def test_kraken_outages_and_listing(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    sim.set_outage("kraken", M0 - 10 * MIN, M0 - 5 * MIN)
    got = await kraken_opens(http, sim, interval=1)
    current = M0 // 1000
    assert len(got) == 715 and got[0] == current - 719 * 60  # the window stays the last 720 intervals
    assert got[-7:] == [current - 11 * 60, *(current - k * 60 for k in range(5, -1, -1))]
    assert len(await opens(http, sim, "1m", startTime=M0 - 10 * MIN)) == 11  # Binance unaffected
    sim.set_listing("kraken", "ETHUSD", M0 - 2 * MIN)
    status, body = await get(http, sim.base_urls["kraken"] + "/0/public/OHLC", pair="ETHUSD", interval=1)
    assert [row[0] for row in body["result"]["XETHZUSD"]] == [current - 120, current - 60, current]


# -- control API -------------------------------------------------------------------------


async def test_control_routes_declare_show_and_clear_history(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    control = sim.root + "/__sim"
    outage = {"provider": "binance", "start": H0 - HOUR, "end": H0}
    async with http.post(control + "/outages", json=outage) as r:
        assert r.status == 201
    listing = {"provider": "kraken", "market": "XBTUSD", "time": 0}
    async with http.post(control + "/listings", json=listing) as r:
        assert r.status == 201
    for bad in (
        {"provider": "coingecko", "start": 0, "end": 1},
        {"provider": "binance", "start": 5, "end": 5},
        {"provider": "binance", "start": "x", "end": 5},
        {"provider": "binance"},
    ):
        async with http.post(control + "/outages", json=bad) as r:
            assert r.status == 400, bad
    status, shown = await get(http, control + "/history")
    assert shown == {
        "binance": {"outages": [{"start": H0 - HOUR, "end": H0}], "listings": {}},
        "kraken": {"outages": [], "listings": {"XXBTZUSD": 0}},
    }
    assert await opens(http, sim, startTime=H0 - 2 * HOUR) == hours(-2, 0)
    async with http.delete(control + "/history", params={"provider": "binance"}) as r:
        assert r.status == 200
    assert await opens(http, sim, startTime=H0 - 2 * HOUR) == hours(-2, -1, 0)
    sim.set_outage("binance", H0 - HOUR, H0)
    sim.reset()
    empty = {"outages": [], "listings": {}}
    assert sim.history() == {"binance": empty, "kraken": empty}


# -- streams agree -----------------------------------------------------------------------


async def test_binance_stream_sends_no_kline_inside_an_outage(
    sim: UpstreamSimulator, http: aiohttp.ClientSession, clock: MovingClock
) -> None:
    sim.set_outage("binance", M0 + MIN, M0 + 3 * MIN)  # 05:21 and 05:22 have no trades
    async with http.ws_connect(sim.ws_urls["binance"] + "/stream?streams=btcusdt@kline_1m") as ws:
        assert await sim.streams.push() == 1
        assert (await receive_json(ws))["data"]["k"]["t"] == M0
        clock.now += 90  # 05:22:04.5: 05:20 closed, 05:21 is gone, 05:22 is still silent
        assert await sim.streams.push() == 1
        assert [(f["data"]["k"]["t"], f["data"]["k"]["x"]) for f in await receive_all(ws, 1)] == [(M0, True)]
        clock.now += 120  # 05:24:04.5
        assert await sim.streams.push() == 2
        frames = [(f["data"]["k"]["t"], f["data"]["k"]["x"]) for f in await receive_all(ws, 2)]
    assert frames == [(M0 + 3 * MIN, True), (M0 + 4 * MIN, False)]
    assert await opens(http, sim, "1m", startTime=M0) == [M0, M0 + 3 * MIN, M0 + 4 * MIN]


async def test_kraken_stream_snapshot_and_updates_skip_an_outage(
    sim: UpstreamSimulator, http: aiohttp.ClientSession, clock: MovingClock
) -> None:
    sim.set_outage("kraken", M0 - 5 * MIN, M0 - 3 * MIN)
    sim.set_outage("kraken", M0 + MIN, M0 + 2 * MIN)
    request = {"method": "subscribe", "params": {"channel": "ohlc", "symbol": ["BTC/USD"], "interval": 1}}
    async with http.ws_connect(sim.ws_urls["kraken"]) as ws:
        await receive_json(ws)  # status
        await ws.send_json(request)
        _, snapshot = await receive_all(ws, 2)
        clock.now += 120  # 05:22:34.5: 05:20 closed, 05:21 is gone, 05:22 in progress
        assert await sim.streams.push() == 2
        updates = [frame["data"][0]["interval_begin"] for frame in await receive_all(ws, 2)]
    begins = [row["interval_begin"] for row in snapshot["data"]]
    assert len(begins) == 8 and "2024-05-24T05:15:00.000000000Z" not in begins
    assert "2024-05-24T05:16:00.000000000Z" not in begins and begins[-1] == "2024-05-24T05:20:00.000000000Z"
    assert updates == ["2024-05-24T05:20:00.000000000Z", "2024-05-24T05:22:00.000000000Z"]
    rest = await kraken_opens(http, sim, interval=1, since=M0 // 1000 - 6 * 60)
    assert rest == [M0 // 1000 + k * 60 for k in (-3, -2, -1, 0, 2)]
