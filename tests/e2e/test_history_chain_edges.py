"""The edges of history through the real chain (history_chain_support): a range reaching the
candle in progress, the CSV export of a multi-page 1m range, gRPC GetOhlcv with start/end
answering as REST does."""

from __future__ import annotations

from typing import Any

import aiohttp

from protos.cryptodata.v1 import market_data_pb2 as pb
from simulator import UpstreamSimulator
from tests.e2e.history_chain_support import (
    HOUR,
    MINUTE,
    THIS_HOUR,
    StartHistory,
    UpstreamLog,
    chain_sim,
    csv_line,
    hours,
    klines_query,
    raw_get,
    sim_klines,
    sqlite_covered,
    sqlite_rows,
    start_history,
    values,
    wall,
)

__all__ = ["chain_sim", "start_history", "wall"]  # fixtures

DAY = 24 * HOUR


async def test_a_range_without_end_ends_with_the_candle_in_progress_which_is_never_stored(
    start_history: StartHistory, chain_sim: UpstreamSimulator
) -> None:
    service = await start_history()
    start = THIS_HOUR - 30 * HOUR

    body = await service.range(start=start)
    status, plain = await service.get("/api/ohlcv", symbol="BTC", interval="1h", limit=5)

    assert status == 200
    closed = await sim_klines(chain_sim, "1h", start, THIS_HOUR)
    (in_progress,) = await sim_klines(chain_sim, "1h", THIS_HOUR, THIS_HOUR + HOUR)
    assert [c["timestamp"] for c in body["data"]] == hours(start, 31)
    assert body["data"] == [*closed, in_progress]
    assert body["data"][-1] == plain["data"][-1]  # the newest candle, as plain /api/ohlcv serves it
    assert (body["next"], body["complete"], body["gaps"], body["source"]) == (None, True, [], "binance")

    stored = sqlite_rows(service.store_path)
    assert THIS_HOUR not in stored
    assert {t: stored[t] for t in hours(start, 30)} == {c["timestamp"]: values(c) for c in closed}
    assert max(end for _, end in sqlite_covered(service.store_path)) <= THIS_HOUR


async def test_a_15_day_1m_export_is_the_simulators_candles_and_stored_for_ranges_after(
    start_history: StartHistory, chain_sim: UpstreamSimulator
) -> None:
    start = THIS_HOUR - 20 * DAY
    end = start + 15 * DAY  # 21,600 candles: three export pages, 22 upstream calls
    service = await start_history()
    upstream = UpstreamLog(chain_sim)

    params = {"symbol": "BTC", "interval": "1m", "start": str(start), "end": str(end), "format": "csv"}
    url = service.url("/api/ohlcv/export")
    async with aiohttp.ClientSession() as http, http.get(url, params=params) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Disposition"].startswith("attachment")
        text = await response.text()

    pages = [klines_query(start + k * 1000 * MINUTE, end, "1m") for k in range(22)]
    assert upstream.queries("binance") == pages
    expected = await sim_klines(chain_sim, "1m", start, end)
    assert [c["timestamp"] for c in expected] == [start + i * MINUTE for i in range(21_600)]
    lines = text.splitlines()
    assert lines[0] == "timestamp,open,high,low,close,volume"
    assert lines[1:] == [csv_line(c) for c in expected]

    upstream.mark()
    served: list[dict[str, Any]] = []
    cursor: int | None = start
    while cursor is not None:
        page = await service.range(interval="1m", start=cursor, end=end, limit=10000)
        served += page["data"]
        cursor = page["next"]
    assert upstream.count() == 0
    assert served == expected


def grpc_page(answer: pb.GetOhlcvResponse) -> dict[str, Any]:
    """A GetOhlcv answer in the REST range page's terms."""
    return {
        "data": [{"timestamp": c.timestamp, "open": c.open, "high": c.high, "low": c.low, "close": c.close,
                  "volume": c.volume} for c in answer.candles],
        "next": answer.next if answer.HasField("next") else None,
        "complete": answer.complete if answer.HasField("complete") else None,
        "gaps": [[g.from_ms, g.to_ms] for g in answer.gaps],
        "source": answer.source,
        "count": answer.count,
    }  # fmt: skip


async def test_grpc_get_ohlcv_with_start_and_end_answers_as_rest_does(
    start_history: StartHistory, chain_sim: UpstreamSimulator
) -> None:
    start, end = THIS_HOUR - 700 * HOUR, THIS_HOUR - 450 * HOUR
    chain_sim.set_outage("binance", start + 40 * HOUR, start + 45 * HOUR)  # hours 40..44
    over_grpc, over_rest = await start_history(), await start_history()  # a store each
    upstream = UpstreamLog(chain_sim)

    grpc_pages, rest_pages = [], []
    cursor: int | None = start
    while cursor is not None:
        answer = await over_grpc.stub.GetOhlcv(pb.GetOhlcvRequest(symbol="BTC", interval="1h", start=cursor,
                                                                  end=end, limit=100))  # fmt: skip
        grpc_pages.append(grpc_page(answer))
        cursor = grpc_pages[-1]["next"]
    cursor = start
    while cursor is not None:
        body = await over_rest.range(start=cursor, end=end, limit=100)
        rest_pages.append({k: body[k] for k in ("data", "next", "complete", "gaps", "source", "count")})
        cursor = body["next"]

    assert grpc_pages == rest_pages
    assert [(p["count"], p["next"], p["complete"], p["gaps"]) for p in grpc_pages] == [
        (100, start + 105 * HOUR, True, [[start + 40 * HOUR, start + 45 * HOUR]]),
        (100, start + 205 * HOUR, True, []),
        (45, None, True, []),
    ]  # fmt: skip
    # Each service fetched the range itself: one upstream page each (245 candles).
    assert upstream.queries("binance") == [klines_query(start, end)] * 2
    assert [c for p in grpc_pages for c in p["data"]] == await sim_klines(chain_sim, "1h", start, end)


async def test_raw_reads_agree_with_the_simulators_documented_bar_counts(
    chain_sim: UpstreamSimulator,
) -> None:
    """The expectation helper itself: an outage removes exactly the bars wholly inside it."""
    start = THIS_HOUR - 100 * HOUR
    chain_sim.set_outage("binance", start + 2 * HOUR, start + 5 * HOUR)
    rows = await raw_get(chain_sim.base_urls["binance"] + "/api/v3/klines", symbol="BTCUSDT", interval="1h",
                         startTime=str(start), endTime=str(start + 10 * HOUR - 1))  # fmt: skip
    assert [r[0] for r in rows] == hours(start, 2) + hours(start + 5 * HOUR, 5)
    assert [c["timestamp"] for c in await sim_klines(chain_sim, "1h", start, start + 10 * HOUR)] == [
        r[0] for r in rows
    ]


async def test_a_range_starting_inside_the_candle_in_progress_has_no_candle_opening_before_it(
    start_history: StartHistory, chain_sim: UpstreamSimulator
) -> None:
    """Candles whose open time is in ``[start, end)``: the candle in progress opened before a
    start inside it, so it is not in such a range (nor in one ending inside it)."""
    service = await start_history()
    inside = THIS_HOUR + 10 * MINUTE  # the clock is 26 minutes into the hour

    open_ended = await service.range(start=inside)
    ended = await service.range(start=inside, end=inside + 10 * MINUTE)
    from_its_open = await service.range(start=THIS_HOUR)

    for body in (open_ended, ended):
        assert (body["data"], body["count"], body["next"]) == ([], 0, None)
        assert (body["complete"], body["gaps"]) == (True, [])
    (in_progress,) = await sim_klines(chain_sim, "1h", THIS_HOUR, THIS_HOUR + HOUR)
    assert from_its_open["data"] == [in_progress]
