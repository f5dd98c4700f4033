"""Kraken behind a failing Binance, through the real chain (history_chain_support): a range
partly older than Kraken's 720-bar reach is answered from the reach on, not complete; a range
wholly older is a 503 that never asks Kraken."""

from __future__ import annotations

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
    sim_kraken_bars,
    start_history,
    wall,
)

__all__ = ["chain_sim", "start_history", "wall"]  # fixtures

#: The oldest hourly bar Kraken keeps: 720 bars, the one in progress among them.
REACH = THIS_HOUR - 719 * HOUR
#: Kraken's request for hourly BTC bars (its deep USD market answers USDT).
KRAKEN_HOURLY = {"pair": "XBTUSD", "interval": "60"}


async def test_binance_down_a_range_partly_past_krakens_reach_is_krakens_part_and_not_complete(
    start_history: StartHistory, chain_sim: UpstreamSimulator
) -> None:
    chain_sim.set_fault("binance", "http_500", path="/api/v3/klines")
    service = await start_history()
    upstream = UpstreamLog(chain_sim)
    start, end = THIS_HOUR - 800 * HOUR, THIS_HOUR - 100 * HOUR

    body = await service.range(start=start, end=end)

    assert upstream.queries("binance") == [klines_query(start, end)]  # tried first, failed
    # One call: Kraken answers its 720 bars whatever ``since`` (exclusive) says.
    assert upstream.queries("kraken") == [{**KRAKEN_HOURLY, "since": str(REACH // 1000 - 1)}]
    assert (body["source"], body["complete"], body["next"], body["count"]) == ("kraken", False, None, 619)
    assert body["gaps"] == [[start, REACH]]  # what Kraken cannot reach; never filled
    bars = await sim_kraken_bars(chain_sim, 60)
    assert [b["timestamp"] for b in bars] == hours(REACH, 720)
    assert body["data"] == [b for b in bars if b["timestamp"] < end]


async def test_binance_down_a_range_wholly_past_krakens_reach_is_503_without_asking_kraken(
    start_history: StartHistory, chain_sim: UpstreamSimulator
) -> None:
    chain_sim.set_fault("binance", "http_500", path="/api/v3/klines")
    service = await start_history()
    upstream = UpstreamLog(chain_sim)

    start, end = REACH - 300 * HOUR, REACH - 10 * HOUR
    status, body = await service.get("/api/ohlcv", symbol="BTC", interval="1h", start=start, end=end)

    assert status == 503
    assert body["success"] is False
    assert body["error"]["code"] == "PROVIDER_ERROR"
    assert body["error"]["details"] == {"binance": "server error (500)", "kraken": "cannot reach this range"}
    assert upstream.queries("kraken") == []
    assert upstream.queries("binance") == [klines_query(start, end)]


async def test_paging_a_kraken_answer_by_next_asks_kraken_once(
    start_history: StartHistory, chain_sim: UpstreamSimulator
) -> None:
    chain_sim.set_fault("binance", "http_500", path="/api/v3/klines")
    service = await start_history()
    upstream = UpstreamLog(chain_sim)
    start, end = THIS_HOUR - 800 * HOUR, THIS_HOUR - 100 * HOUR

    pages: list[dict[str, Any]] = []
    cursor: int | None = start
    while cursor is not None:
        pages.append(await service.range(start=cursor, end=end, limit=300))
        cursor = pages[-1]["next"]

    # Only the first page holds the span Kraken cannot reach; the rest come from the store.
    assert [(p["source"], p["count"], p["complete"], p["gaps"], p["next"]) for p in pages] == [
        ("kraken", 300, False, [[start, REACH]], REACH + 300 * HOUR),
        ("kraken", 300, True, [], REACH + 600 * HOUR),
        ("kraken", 19, True, [], None),
    ]  # fmt: skip
    assert upstream.queries("kraken") == [{**KRAKEN_HOURLY, "since": str(REACH // 1000 - 1)}]
    assert upstream.queries("binance") == [klines_query(p, end) for p in (start, REACH + 300 * HOUR,
                                                                          REACH + 600 * HOUR)]  # fmt: skip
    bars = await sim_kraken_bars(chain_sim, 60)
    assert [c for p in pages for c in p["data"]] == [b for b in bars if b["timestamp"] < end]
