"""The holder's side of the upstream streams: which provider serves each stream, catching a
stream up over REST whenever it (re)opens, and publishing each accepted event once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence

from application.live.gap_filler import GapFiller
from application.live.publisher import OrderedPublisher
from domain.candle_continuity import PublishedCandles
from domain.errors import ProviderError
from domain.live import CandleEvent, StreamEvent, StreamKey, TickerEvent
from domain.ports import MarketStream, NoTelemetry, StreamSink, Telemetry
from domain.stream_failover import StreamOption, assign_streams, takes_over

log = logging.getLogger("live.continuity")
NOTHING_PUBLISHED = PublishedCandles()


class StreamContinuity:
    """What the MarketStreams of the lease holder report to (one ``sink`` per provider).

    - Failover: a provider that is live for a stream serves it when ``takes_over`` says so;
      events of any other provider for that stream are dropped. The provider that served it
      before keeps it (``handing_over``) until the new one has caught up.
    - No gaps: when a provider is live for a candles stream (a connect, a reconnect, a
      takeover), the stream's live events are held in a buffer (the newest state per candle)
      while the candles missed since the newest closed one published are fetched over REST
      and published, oldest first; then the buffer is released.
    - No repeats: every candle event goes through ``PublishedCandles.admits``, whether it
      comes from the stream, the REST fill or the buffer.

    ``fill_attempts`` REST attempts are made ``fill_retry`` seconds apart; after the last one
    the buffer is released anyway (the missed candles cannot be had: logged, never invented).
    """

    def __init__(
        self,
        streams: Sequence[MarketStream],
        filler: GapFiller,
        publisher: OrderedPublisher,
        on_change: Callable[[], None] = lambda: None,
        *,
        fill_attempts: int = 3,
        fill_retry: float = 1.0,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._streams = tuple(streams)
        self._telemetry = telemetry if telemetry is not None else NoTelemetry()
        self._filler = filler
        self._publisher = publisher
        self._on_change = on_change
        self._fill_attempts = max(1, fill_attempts)
        self._fill_retry = fill_retry
        self._wanted: frozenset[StreamKey] = frozenset()
        self.serving: dict[StreamKey, str] = {}
        self.handing_over: dict[StreamKey, str] = {}
        self._published: dict[StreamKey, PublishedCandles] = {}
        self._buffers: dict[StreamKey, dict[int, CandleEvent]] = {}
        self._fills: dict[StreamKey, asyncio.Task[None]] = {}
        self.dropped = 0

    def sink(self, provider: str) -> StreamSink:
        """The sink to hand ``provider``'s MarketStream."""
        return _ProviderSink(self, provider, self._telemetry)

    def options(self) -> tuple[StreamOption, ...]:
        """The providers as the failover policy sees them now."""
        return tuple(StreamOption(s.name, s.supports, s.status().state == "down") for s in self._streams)

    def assignments(self, wanted: Iterable[StreamKey]) -> dict[str, frozenset[StreamKey]]:
        """What each provider must hold for ``wanted``; streams no longer wanted are let go."""
        self._wanted = frozenset(wanted)
        for key in [key for key in self.serving if key not in self._wanted]:
            self._let_go(key)
        return assign_streams(self._wanted, self.options(), self.serving, self.handing_over)

    def published(self, key: StreamKey) -> PublishedCandles:
        """What was published of ``key`` (by this replica or, heard on the bus, by another)."""
        return self._published.get(key, NOTHING_PUBLISHED)

    def heard(self, event: CandleEvent) -> None:
        """A candle event published on the bus, by this replica or another holder: remembered
        so a takeover fills from where the previous holder stopped."""
        self._published[event.key] = self.published(event.key).after(event.candle.timestamp, event.closed)

    def reset(self) -> None:
        """The streams were given up (lease lost, shutdown): stop every fill, forget who
        serves what. What was published is remembered."""
        for key in list(self.serving):
            self._let_go(key)
        self._wanted = frozenset()

    async def settled(self) -> None:
        """Wait until no fill is under way."""
        while self._fills:
            await asyncio.gather(*self._fills.values(), return_exceptions=True)

    # The sink, per provider.

    def live(self, provider: str, keys: frozenset[StreamKey]) -> None:
        """``provider`` streams ``keys`` from now on: take over those it should serve."""
        options = self.options()
        for key in keys & self._wanted:
            current = self.serving.get(key)
            if not takes_over(provider, key, options, current):
                continue
            self.serving[key] = provider
            if current is not None and current != provider:
                self.handing_over[key] = current
            if key.channel == "candles":
                self._start_fill(key, provider)
            else:  # a ticker needs no catching up: the new provider serves it at once
                self.handing_over.pop(key, None)
        self._on_change()

    def event(self, provider: str, event: StreamEvent) -> None:
        """An event of ``provider``: published when ``provider`` serves its stream."""
        key = event.key
        if self.serving.get(key) != provider:
            self.dropped += 1
            return
        if isinstance(event, TickerEvent):
            self._publisher.put(event)
            return
        buffer = self._buffers.get(key)
        if buffer is None:
            self._accept(event)
            return
        held = buffer.get(event.candle.timestamp)
        if held is None or not held.closed:  # the newest state per candle; a closed one stays
            buffer[event.candle.timestamp] = event

    def lost(self, provider: str, reason: str, failures: int) -> None:
        """``provider``'s connection dropped or could not be opened: its status changed."""
        self._on_change()

    # Inside.

    def _accept(self, event: CandleEvent) -> None:
        published = self.published(event.key)
        if not published.admits(event.candle.timestamp, event.closed):
            self.dropped += 1
            return
        self._published[event.key] = published.after(event.candle.timestamp, event.closed)
        self._publisher.put(event)

    def _start_fill(self, key: StreamKey, provider: str) -> None:
        running = self._fills.pop(key, None)
        if running is not None:
            running.cancel()  # a newer (re)connect: fill again from there, keeping the buffer
        self._buffers.setdefault(key, {})
        self._fills[key] = asyncio.get_running_loop().create_task(
            self._fill(key, provider), name=f"fill {key}"
        )

    async def _fill(self, key: StreamKey, provider: str) -> None:
        events: tuple[CandleEvent, ...] = ()
        for attempt in range(1, self._fill_attempts + 1):
            try:
                events = await self._filler.fill(key, self.published(key), provider)
                break
            except ProviderError as error:
                reason = error.reason
            except Exception as error:  # noqa: BLE001 - a fill must never leave the buffer held
                reason = f"{type(error).__name__}: {error}"
            if attempt < self._fill_attempts:
                await asyncio.sleep(self._fill_retry)
            else:
                log.warning("candles missed by %s could not be filled: %s", key, reason)
        for event in events:
            self._accept(event)
        for _, event in sorted(self._buffers.pop(key, {}).items()):
            self._accept(event)
        if self._fills.get(key) is asyncio.current_task():
            del self._fills[key]
        self.handing_over.pop(key, None)
        self._on_change()

    def _let_go(self, key: StreamKey) -> None:
        self.serving.pop(key, None)
        self.handing_over.pop(key, None)
        self._buffers.pop(key, None)
        running = self._fills.pop(key, None)
        if running is not None:
            running.cancel()


class _ProviderSink:
    """Implements ``StreamSink`` for one provider's MarketStream: tells the continuity which
    provider each report comes from."""

    def __init__(self, continuity: StreamContinuity, provider: str, telemetry: Telemetry) -> None:
        self._continuity = continuity
        self._provider = provider
        self._telemetry = telemetry

    def live(self, provider: str, keys: frozenset[StreamKey]) -> None:
        """Delegated with this sink's provider."""
        self._continuity.live(self._provider, keys)

    def event(self, event: StreamEvent) -> None:
        """Counted, and delegated with this sink's provider."""
        self._telemetry.upstream_stream_message(self._provider, event.key.channel)
        self._continuity.event(self._provider, event)

    def lost(self, provider: str, reason: str, failures: int) -> None:
        """Counted, and delegated with this sink's provider."""
        self._telemetry.upstream_stream_lost(self._provider)
        self._continuity.lost(self._provider, reason, failures)
