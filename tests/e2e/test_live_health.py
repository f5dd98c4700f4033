"""GET /api/health reports the live streams' upstream providers (an empty list when off)."""

from __future__ import annotations

import aiohttp

from domain.live import StreamStatus
from entrypoints.rest import schemas
from simulator import UpstreamSimulator
from tests.e2e.live_support import StartLive, start_live
from tests.fake_live_feed import FakeStreamReport

__all__ = ["start_live"]
simulator: UpstreamSimulator  # the fixture, from tests.conftest


async def test_health_lists_each_stream_provider(start_live: StartLive) -> None:
    report = FakeStreamReport(StreamStatus("binance", "reconnecting", 14, 1_780_000_000.1234, 3),
                              StreamStatus("kraken", "down", 0, None, 0))  # fmt: skip
    service = await start_live(report=report)
    async with aiohttp.ClientSession() as http:
        body = await (await http.get(service.url("/api/health"))).json()
    assert body["streams"] == [
        {"provider": "binance", "state": "reconnecting", "streams": 14, "lastMessage": 1_780_000_000_123, "reconnects": 3},
        {"provider": "kraken", "state": "down", "streams": 0, "lastMessage": None, "reconnects": 0},
    ]
    schemas.HealthResponse.model_validate(body)


async def test_health_has_an_empty_list_when_streams_are_off(start_live: StartLive) -> None:
    service = await start_live(feed=None)
    async with aiohttp.ClientSession() as http:
        body = await (await http.get(service.url("/api/health"))).json()
    assert body["streams"] == []
