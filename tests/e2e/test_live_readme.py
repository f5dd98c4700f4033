"""The Python client of README's "Live data" section runs, as written, against a server."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from application.live.updates import LiveCandle
from simulator import UpstreamSimulator
from tests.e2e.live_support import LiveService, StartLive, start_live
from tests.fake_live_feed import MINUTE_MS, T0, candle, quote

__all__ = ["start_live"]
simulator: UpstreamSimulator  # the fixture, from tests.conftest

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_client() -> str:
    """The one Python block of the README's "Live data" section."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Live data\n"):]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1
    return blocks[0]


def load_client(service: LiveService, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("CDE_URL", service.url(""))
    namespace: dict[str, Any] = {"__name__": "readme_client"}
    exec(compile(readme_client(), str(README), "exec"), namespace)  # noqa: S102 - our own README
    return namespace


async def test_the_websocket_client(start_live: StartLive, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    service = await start_live()
    client = load_client(service, monkeypatch)
    watching = asyncio.create_task(client["watch_candles"]("BTC", "1m", 2))
    while service.feed.watchers("candles", "BTCUSDT", "1m") == 0:
        await asyncio.sleep(0.01)
    service.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0, 102.5), True))
    service.feed.push_candles("BTCUSDT", "1m", LiveCandle(candle(T0 + MINUTE_MS, 102.75), False))
    await asyncio.wait_for(watching, 10)
    assert capsys.readouterr().out.splitlines() == [
        "snapshot BTCUSDT 3 candles",
        f"update {T0} 102.5 closed",
        f"update {T0 + MINUTE_MS} 102.75 live",
    ]


async def test_the_server_sent_events_client(start_live: StartLive, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    service = await start_live()
    client = load_client(service, monkeypatch)
    following = asyncio.create_task(client["follow_prices"]("BTC,ETH", 2))
    while service.feed.watchers("prices") == 0:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    service.feed.push_quotes(quote("ETH", 3_000.5))
    await asyncio.wait_for(following, 10)
    assert capsys.readouterr().out.splitlines() == [
        "snapshot [('BTC', 100.0), ('ETH', 101.0)]",
        "update [('ETH', 3000.5)]",
    ]
