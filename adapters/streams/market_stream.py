"""``ShardedMarketStream``: the ``MarketStream`` port over one exchange's dialect. It holds
the wanted keys over as few connections as the exchange allows, reopens broken ones with
capped, jittered backoff and keeps its connection attempts well under the exchange's limit."""

from __future__ import annotations

import asyncio
from random import Random

import aiohttp
import structlog

from adapters.streams.connection import Connection, Ending
from adapters.streams.frames import Dialect
from adapters.streams.rate_slots import RateSlots
from adapters.streams.shard import Shard
from adapters.streams.timing import StreamTiming
from domain.live import StreamEvent, StreamKey, StreamState, StreamStatus
from domain.ports import Clock, StreamSink

log = structlog.get_logger("streams")

#: How long a topic the exchange refused is reported unsupported before it is tried again.
REFUSED_RECHECK = 3600.0
_MAX_MESSAGE = 4 * 1024 * 1024


class _NoSink:
    """Until ``run`` is given the real sink."""

    def live(self, provider: str, keys: frozenset[StreamKey]) -> None:
        """Ignored."""

    def event(self, event: StreamEvent) -> None:
        """Ignored."""

    def lost(self, provider: str, reason: str, failures: int) -> None:
        """Ignored."""


class ShardedMarketStream:
    """Implements ``MarketStream`` for the exchange that ``dialect`` speaks.

    ``messages`` counts frames received, ``malformed_frames`` those skipped as malformed;
    ``rng`` seeds the backoff jitter.
    """

    def __init__(
        self,
        dialect: Dialect,
        session: aiohttp.ClientSession,
        clock: Clock,
        timing: StreamTiming,
        rng: Random | None = None,
    ) -> None:
        self.name = dialect.provider
        self.messages = 0
        self.malformed_frames = 0
        self._dialect = dialect
        self._session = session
        self._clock = clock
        self._timing = timing
        self._rng = rng or Random()
        self._sink: StreamSink = _NoSink()
        self._keys: dict[str, frozenset[StreamKey]] = {}
        self._shards: list[Shard] = []
        self._connections: dict[Shard, Connection] = {}
        self._refused: dict[str, float] = {}
        self._attempts = RateSlots(timing.attempt_limit, timing.attempt_window)
        self._changed = asyncio.Event()
        self._failures = 0
        self._retired_reopens = 0
        self._last_message: float | None = None

    @property
    def enabled(self) -> bool:
        """Public market streams need no key."""
        return True

    @property
    def url(self) -> str:
        """The URL its connections open."""
        return self._dialect.url

    # -- MarketStream ------------------------------------------------------------------

    def supports(self, key: StreamKey) -> bool:
        """Keys the exchange has a topic for, unless it refused that topic lately."""
        topic = self._dialect.topic(key)
        return topic is not None and self._refused.get(topic, 0.0) <= self._clock.now()

    def want(self, keys: frozenset[StreamKey]) -> None:
        """Hold exactly ``keys`` (those supported): new topics go to the first connection with
        room, dropped ones are unsubscribed, an emptied connection closes."""
        topics: dict[str, set[StreamKey]] = {}
        for key in keys:
            if self.supports(key):
                topics.setdefault(self._dialect.topic(key) or "", set()).add(key)
        self._keys = {topic: frozenset(held) for topic, held in topics.items()}
        unplaced = set(topics)
        for shard in self._shards:
            shard.topics &= unplaced
            unplaced -= shard.topics
        for topic in sorted(unplaced):
            room = next((s for s in self._shards if len(s.topics) < self._dialect.max_topics), None)
            if room is None:
                room = Shard(len(self._shards))
                self._shards.append(room)
            room.topics.add(topic)
        self._shards = [s for s in self._shards if s.topics or s.task is not None]
        for shard in self._shards:
            shard.changed.set()  # new keys of a held topic need announcing too
        self._changed.set()

    async def run(self, sink: StreamSink) -> None:
        """Hold the wanted keys until cancelled (one task per shard)."""
        self._sink = sink
        try:
            async with asyncio.TaskGroup() as group:
                while True:
                    self._changed.clear()
                    for shard in self._shards:
                        if shard.task is None and shard.topics:
                            shard.task = group.create_task(self._hold(shard))
                    await self._changed.wait()
        finally:
            self._sink = _NoSink()

    def status(self) -> StreamStatus:
        """connected / reconnecting / down, subscribed keys, last frame, reconnections."""
        active = [shard for shard in self._shards if shard.topics]
        state: StreamState
        if self._failures >= self._timing.down_after:
            state = "down"
        elif self._failures == 0 and all(self._up(shard) for shard in active):
            state = "connected"
        else:
            state = "reconnecting"
        streams = sum(len(c.live_keys) for c in self._connections.values())
        reopens = self._retired_reopens + sum(max(0, shard.opens - 1) for shard in self._shards)
        return StreamStatus(self.name, state, streams, self._last_message, reopens)

    # -- one shard ---------------------------------------------------------------------

    async def _hold(self, shard: Shard) -> None:
        try:
            while shard.topics:
                try:
                    ending = await self._connect_and_hold(shard)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # a bug must not end the stream for good
                    log.exception("stream connection crashed", provider=self.name)
                    ending = Ending(f"internal error: {error!r}", was_up=False)
                if ending is None or ending.idle:
                    continue
                self._report_loss(ending)
                # A planned rotation of a connection that was up reconnects at once; one asked
                # for before the connection came up (an exchange draining, Kraken maintenance)
                # backs off like a failure, or every attempt of the window goes at once.
                if not (ending.rotate and ending.was_up):
                    await asyncio.sleep(self._timing.backoff.delay(self._failures, self._rng))
        finally:
            shard.task = None
            if not shard.topics and shard in self._shards:
                self._shards.remove(shard)
                self._retired_reopens += max(0, shard.opens - 1)
            self._changed.set()

    def _report_loss(self, ending: Ending) -> None:
        if not ending.was_up:
            self._failures += 1
        failures = 0 if ending.was_up else self._failures
        log.info("stream connection lost", provider=self.name, reason=ending.reason, failures=failures)
        try:
            self._sink.lost(self.name, ending.reason, failures)
        except Exception:  # the sink's bug must not end the stream either
            log.exception("stream sink failed", provider=self.name)

    async def _connect_and_hold(self, shard: Shard) -> Ending | None:
        await self._attempts.acquire()
        if not shard.topics:
            return None
        try:
            async with asyncio.timeout(self._timing.connect_timeout):
                ws = await self._session.ws_connect(
                    self._dialect.url,
                    autoping=False,  # pings are answered here, paced: pongs count against the limit
                    heartbeat=None,
                    max_msg_size=_MAX_MESSAGE,
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=self._timing.close_timeout),
                )
        except aiohttp.WSServerHandshakeError as error:
            return Ending(f"handshake refused: HTTP {error.status}", was_up=False)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            return Ending(f"cannot connect: {error!r}", was_up=False)
        shard.opens += 1
        shard.subscribed.clear()
        connection = Connection(ws, shard, self._dialect, self, self._timing)
        self._connections[shard] = connection
        try:
            return await connection.hold()
        finally:
            del self._connections[shard]
            shard.subscribed.clear()

    def _up(self, shard: Shard) -> bool:
        connection = self._connections.get(shard)
        return connection is not None and connection.is_up

    # -- what connections report (connection.Owner) --------------------------------------

    def keys_of(self, topic: str) -> frozenset[StreamKey]:
        """The wanted keys ``topic`` carries."""
        return self._keys.get(topic, frozenset())

    def heard(self) -> None:
        """A frame arrived: the connection shows life."""
        self.messages += 1
        self._last_message = self._clock.now()

    def malformed(self, reason: str) -> None:
        """Count and log a skipped frame."""
        self.malformed_frames += 1
        log.warning("malformed stream frame skipped", provider=self.name, reason=reason[:200])

    def refused(self, topics: dict[str, str]) -> None:
        """The exchange refused topics: unsupported for a while, and no longer held."""
        until = self._clock.now() + REFUSED_RECHECK
        for topic, reason in topics.items():
            self._refused[topic] = until
            self._keys.pop(topic, None)
            for shard in self._shards:
                shard.topics.discard(topic)
            log.warning(
                "stream refused by the exchange", provider=self.name, topic=topic, reason=reason[:200]
            )

    def up(self) -> None:
        """A connection's subscriptions are acknowledged: the failures in a row are over."""
        self._failures = 0

    def live(self, keys: frozenset[StreamKey]) -> None:
        """Tell the sink."""
        self._sink.live(self.name, keys)

    def event(self, event: StreamEvent) -> None:
        """Tell the sink."""
        self._sink.event(event)
