"""Both MarketStream adapters through the simulator's WebSocket faults: drops, refused
handshakes, silence, malformed frames, the cut and the exchange's shutdown notice."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from random import Random

import aiohttp
import pytest

from adapters.streams.binance import binance_stream
from adapters.streams.kraken import kraken_stream
from adapters.streams.market_stream import ShardedMarketStream
from adapters.streams.timing import StreamTiming
from domain.interval import Interval
from domain.live import StreamKey, StreamStatus
from domain.reconnect_backoff import ReconnectBackoff
from domain.symbol import Symbol
from simulator import StreamSettings, UpstreamSimulator
from tests.fakes import FakeClock
from tests.integration.stream_support import FAST, RecordingSink, eventually, fast, running
from tests.integration.support import NOW

KEYS = frozenset({StreamKey.candles(Symbol("BTC"), Interval("1m")), StreamKey.ticker(Symbol("ETH"))})
PROVIDERS = pytest.mark.parametrize("provider", ["binance", "kraken"])
Build = Callable[..., ShardedMarketStream]


@pytest.fixture
async def sim() -> AsyncIterator[UpstreamSimulator]:
    # Kraken heartbeats every 0.1 s keep its connections alive; Binance here has no pings
    settings = StreamSettings(heartbeat_interval=0.1)
    async with UpstreamSimulator(now=lambda: NOW, seed=7, stream_settings=settings) as simulator:
        yield simulator


@pytest.fixture
def build(sim: UpstreamSimulator, session: aiohttp.ClientSession) -> Build:
    def make(provider: str, timing: StreamTiming = FAST, seed: int = 7) -> ShardedMarketStream:
        factory = binance_stream if provider == "binance" else kraken_stream
        return factory(session, sim.ws_urls[provider], FakeClock(now=NOW), timing, Random(seed))

    return make


def slow_liveness(provider: str) -> StreamTiming:
    """Binance's simulator sends nothing when nobody pushes: give it time."""
    return fast(liveness_timeout=5.0) if provider == "binance" else FAST


@PROVIDERS
async def test_a_drop_is_lost_then_reconnected_and_live_again(
    provider: str, sim: UpstreamSimulator, build: Build
) -> None:
    stream, sink = build(provider, slow_liveness(provider)), RecordingSink()
    stream.want(KEYS)
    async with running(stream, sink):
        await eventually(lambda: len(sink.lives) == (1 if provider == "binance" else 2))
        first_lives = list(sink.lives)
        assert await sim.streams.fault(provider, "drop") == 1
        await eventually(lambda: len(sink.lives) == 2 * len(first_lives))
        await eventually(lambda: stream.status().state == "connected")
        status = stream.status()
    assert sink.losses == [(sink.losses[0][0], 0)]  # a connection that was up: no failure in a row
    assert sink.live_keys() == KEYS and sink.lives[len(first_lives) :] == first_lives
    assert status == StreamStatus(provider, "connected", 2, NOW, 1)
    assert sim.streams.log.opened_count(provider) == 2


@PROVIDERS
async def test_refused_handshakes_back_off_and_report_down_after_three(
    provider: str, sim: UpstreamSimulator, build: Build
) -> None:
    backoff = ReconnectBackoff(base=0.1, cap=0.4, jitter=0.5)
    stream, sink = build(provider, fast(backoff=backoff, liveness_timeout=5.0)), RecordingSink()
    await sim.streams.fault(provider, "refuse", status=503, times=4)
    stream.want(KEYS)
    async with running(stream, sink):
        await eventually(lambda: len(sink.losses) == 3)
        assert stream.status().state == "down"
        await eventually(lambda: sink.lives, timeout=5)
        await eventually(lambda: stream.status().state == "connected")
    assert sink.losses == [("handshake refused: HTTP 503", n) for n in (1, 2, 3, 4)]
    refusals = sim.streams.log.refusals(provider)
    assert len(refusals) == 4
    expected = [backoff.delay(n, rng) for rng in [Random(7)] for n in (1, 2, 3)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(refusals)]
    assert all(gap >= wait * 0.9 for gap, wait in zip(gaps, expected)), (gaps, expected)
    assert gaps[2] > gaps[0]  # growing waits (0.1-0.2 s, then 0.2-0.4 s)


@PROVIDERS
async def test_a_silent_connection_is_replaced(provider: str, sim: UpstreamSimulator, build: Build) -> None:
    stream, sink = build(provider, fast(liveness_timeout=0.4)), RecordingSink()
    stream.want(KEYS)
    async with running(stream, sink):
        await eventually(lambda: sink.lives)
        lives = len(sink.lives)
        await sim.streams.fault(provider, "silence")
        await eventually(lambda: len(sink.lives) > lives)  # a new connection answers
    assert sink.losses == [("no frame for 0.4 s", 0)]
    assert sim.streams.log.opened_count(provider) == 2


@PROVIDERS
async def test_malformed_frames_are_counted_and_skipped(
    provider: str, sim: UpstreamSimulator, build: Build
) -> None:
    stream, sink = build(provider, slow_liveness(provider)), RecordingSink()
    stream.want(KEYS)
    async with running(stream, sink):
        await eventually(lambda: sink.live_keys() == KEYS)
        events = len(sink.events)
        await sim.streams.fault(provider, "malformed")
        await sim.streams.fault(provider, "malformed", shape="wrong_shape")
        await eventually(lambda: stream.malformed_frames == 2)
        await sim.streams.push()
        await eventually(lambda: len(sink.events) == events + 2)  # the connection goes on
    assert sink.losses == [] and sim.streams.log.opened_count(provider) == 1


@PROVIDERS
async def test_the_cut_and_the_shutdown_notice_bring_a_new_connection(
    provider: str, sim: UpstreamSimulator, build: Build
) -> None:
    stream, sink = build(provider, slow_liveness(provider)), RecordingSink()
    stream.want(KEYS)
    async with running(stream, sink):
        await eventually(lambda: sink.live_keys() == KEYS)
        lives = len(sink.lives)
        await sim.streams.fault(provider, "cut")
        await eventually(lambda: len(sink.lives) == 2 * lives)
        await sim.streams.fault(provider, "server_shutdown", grace=5.0)
        await eventually(lambda: len(sink.lives) == 3 * lives)
        assert sim.streams.log.open_count(provider) == 1  # it left before the exchange closed it
    notice = "rotation: serverShutdown" if provider == "binance" else "rotation: Kraken status maintenance"
    assert [failures for _, failures in sink.losses] == [0, 0]
    assert sink.losses[1][0] == notice
    assert stream.status().reconnects == 2


async def test_connections_rotate_before_their_lifetime_is_up(sim: UpstreamSimulator, build: Build) -> None:
    stream, sink = build("kraken", fast(max_lifetime=0.3)), RecordingSink()
    stream.want(KEYS)
    async with running(stream, sink):
        await eventually(lambda: len(sink.losses) >= 2, timeout=3)
    assert sink.losses[:2] == [("rotation: connection lifetime", 0)] * 2
    assert sim.streams.log.opened_count("kraken") >= 3


async def test_the_exchanges_lifetime_cut_is_a_drop_like_any_other(session: aiohttp.ClientSession) -> None:
    async with UpstreamSimulator(now=lambda: NOW, stream_settings=StreamSettings(max_lifetime=0.3)) as sim:
        stream = binance_stream(
            session, sim.ws_urls["binance"], FakeClock(now=NOW), fast(liveness_timeout=5.0)
        )
        sink = RecordingSink()
        stream.want(KEYS)
        async with running(stream, sink):
            await eventually(lambda: len(sink.lives) >= 2, timeout=3)
    assert sink.losses[0] == ("closed by the exchange (code 1000)", 0)


async def test_connection_attempts_are_paced(sim: UpstreamSimulator, build: Build) -> None:
    timing = fast(attempt_limit=2, attempt_window=0.5, backoff=ReconnectBackoff(base=0.01, cap=0.01))
    stream, sink = build("binance", timing), RecordingSink()
    await sim.streams.fault("binance", "refuse")
    stream.want(KEYS)
    async with running(stream, sink):
        await asyncio.sleep(0.8)
    assert len(sim.streams.log.refusals("binance")) == 4  # 2 at once, 2 after 0.5 s, none before 1.0 s
