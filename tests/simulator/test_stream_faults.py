"""Self-tests of the WebSocket side's faults, recording and control API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from simulator import UpstreamSimulator
from tests.simulator.stream_support import MovingClock, eventually, nothing_arrives, receive_json


@pytest.fixture
async def sim() -> AsyncIterator[UpstreamSimulator]:
    async with UpstreamSimulator(now=MovingClock(), seed=7) as simulator:
        yield simulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        yield session


def binance_url(sim: UpstreamSimulator, streams: str = "btcusdt@kline_1m") -> str:
    return sim.ws_urls["binance"] + "/stream?streams=" + streams


async def test_refused_handshakes_for_the_next_times(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    assert await sim.streams.fault("binance", "refuse", status=429, times=2) == 0
    for _ in range(2):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(binance_url(sim))
        assert refused.value.status == 429
    async with http.ws_connect(binance_url(sim)) as ws:
        assert not ws.closed
    async with http.ws_connect(sim.ws_urls["kraken"]) as ws:  # the other provider was never refused
        assert (await receive_json(ws))["channel"] == "status"
    assert (sim.streams.log.opened_count("binance"), sim.streams.log.opened_count("kraken")) == (1, 1)
    assert len(sim.streams.log.refusals("binance")) == 2


async def test_refusals_until_cleared(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    await sim.streams.fault("kraken", "refuse")
    for _ in range(3):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(sim.ws_urls["kraken"])
        assert refused.value.status == 503
    assert sim.streams.clear_faults("kraken") == 1
    async with http.ws_connect(sim.ws_urls["kraken"]):
        pass


async def test_drop_resets_the_connection_without_a_close_frame(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(binance_url(sim)) as first, http.ws_connect(binance_url(sim)) as second:
        assert sim.streams.log.open_count("binance") == 2
        assert await sim.streams.fault("binance", "drop") == 2
        ends = [await first.receive(timeout=2), await second.receive(timeout=2)]
    assert {end.type for end in ends} == {aiohttp.WSMsgType.CLOSED}  # no close code: the TCP went
    assert await eventually(lambda: sim.streams.log.open_count("binance") == 0)
    assert sim.streams.log.opened_count("binance") == 2


async def test_silence_sends_nothing_at_all_until_cleared(
    sim: UpstreamSimulator, http: aiohttp.ClientSession
) -> None:
    sim.streams.settings.ping_interval = 0.05
    sim.streams.settings.message_rate = 100
    async with http.ws_connect(binance_url(sim), autoping=False) as ws:
        assert await sim.streams.fault("binance", "silence") == 1
        assert await sim.streams.push() == 0
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 1})
        assert await nothing_arrives(ws, 0.3)  # no data, no reply, no ping
        assert sim.streams.log.open_count("binance") == 1
        sim.streams.clear_faults()
        await sim.streams.push()
        frames = [await ws.receive(timeout=1) for _ in range(2)]
    kinds = {frame.type for frame in frames}
    assert aiohttp.WSMsgType.TEXT in kinds  # the kline again (and pings)
    assert [frame.payload for frame in sim.streams.log.frames("binance", "text")] == [
        {"method": "LIST_SUBSCRIPTIONS", "id": 1}
    ]


@pytest.mark.parametrize("provider", ["binance", "kraken"])
async def test_malformed_frames(sim: UpstreamSimulator, http: aiohttp.ClientSession, provider: str) -> None:
    url = binance_url(sim) if provider == "binance" else sim.ws_urls["kraken"]
    async with http.ws_connect(url) as ws:
        if provider == "kraken":
            await receive_json(ws)
        await sim.streams.fault(provider, "malformed")
        truncated = await ws.receive(timeout=1)
        await sim.streams.fault(provider, "malformed", shape="wrong_shape", count=2)
        shapes = [json.loads((await ws.receive(timeout=1)).data) for _ in range(2)]
    with pytest.raises(ValueError):
        json.loads(truncated.data)
    assert shapes[0] == shapes[1] and isinstance(shapes[0], dict)


async def test_cut_closes_like_the_24_hour_limit(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(sim.ws_urls["kraken"]) as ws:
        await receive_json(ws)
        assert await sim.streams.fault("kraken", "cut") == 1
        closing = await ws.receive(timeout=2)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1000


async def test_unknown_faults_and_providers_are_refused(sim: UpstreamSimulator) -> None:
    with pytest.raises(ValueError, match="no stream fault"):
        await sim.streams.fault("binance", "nope")
    with pytest.raises(ValueError, match="no WebSocket side"):
        await sim.streams.fault("coingecko", "drop")


async def test_control_api(sim: UpstreamSimulator, http: aiohttp.ClientSession) -> None:
    control = sim.root + "/__sim"
    async with http.get(control) as response:
        assert (await response.json())["ws_urls"] == sim.ws_urls
    async with http.ws_connect(binance_url(sim, "ethusdt@miniTicker")) as ws:
        async with http.post(control + "/streams/push") as response:
            assert await response.json() == {"frames": 1}
        assert (await receive_json(ws))["stream"] == "ethusdt@miniTicker"
        async with http.get(control + "/streams") as response:
            summary = await response.json()
        assert summary["binance"] == {
            "opened": 1,
            "open": 1,
            "subscriptions": ["ethusdt@miniTicker"],
            "frames": 0,
            "refused": 0,
        }
        assert summary["kraken"] == {"opened": 0, "open": 0, "subscriptions": [], "frames": 0, "refused": 0}
        async with http.post(
            control + "/streams/faults", json={"provider": "binance", "kind": "cut"}
        ) as response:
            assert (response.status, await response.json()) == (201, {"affected": 1})
        assert (await ws.receive(timeout=2)).type == aiohttp.WSMsgType.CLOSE
    async with http.post(
        control + "/streams/faults", json={"provider": "binance", "kind": "refuse"}
    ) as response:
        assert response.status == 201
    async with http.post(
        control + "/streams/faults", json={"provider": "binance", "kind": "bad"}
    ) as response:
        assert response.status == 400
    async with http.delete(control + "/streams/faults") as response:
        assert await response.json() == {"cleared": 1}
    assert await eventually(lambda: sim.streams.log.open_count("binance") == 0)
    async with http.post(control + "/reset") as response:
        assert response.status == 200
    assert sim.streams.log.opened_count("binance") == 0
