"""Who runs the upstream streams, and what they hold: the stream supervisor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence

from application.live.continuity import StreamContinuity
from application.live.gap_filler import GapFiller
from application.live.local_interest import LocalInterest
from application.live.publisher import OrderedPublisher
from application.live.report import StreamStatuses
from domain.live import CandleEvent, StreamKey, StreamStatus
from domain.ports import BusMessage, Clock, EventBus, MarketStream, StreamDemand, StreamLease, Telemetry

log = logging.getLogger("live.supervisor")


class StreamSupervisor:
    """Runs the MarketStreams on the one replica that holds the ``StreamLease``.

    Every ``tick`` (``run`` ticks every ``poll_interval`` seconds, and at once when the local
    interest or a stream changes): this replica announces the streams its clients watch
    (``StreamDemand``, for ``lease_ttl`` seconds); the lease is renewed every ``lease_ttl``/3;
    while it is held the MarketStreams run and are told what to hold (the union of every
    replica's demand, routed by the failover policy), and their statuses are published every
    ``status_interval`` seconds and when they change. Losing the lease stops the streams;
    a failed renewal keeps them until the lease it last got has run out.

    Every replica listens to the bus: the statuses it hears feed its ``report`` (given, or
    made here), the candle events tell it what was published, so it fills from there if it
    takes over.
    """

    def __init__(
        self,
        streams: Sequence[MarketStream],
        bus: EventBus,
        lease: StreamLease,
        demand: StreamDemand,
        interest: LocalInterest,
        filler: GapFiller,
        clock: Clock,
        *,
        lease_ttl: float = 5.0,
        poll_interval: float = 0.5,
        status_interval: float = 1.0,
        fill_attempts: int = 3,
        fill_retry: float = 1.0,
        report: StreamStatuses | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._streams = tuple(streams)
        self._bus = bus
        self._lease = lease
        self._demand = demand
        self._interest = interest
        self._clock = clock
        self._lease_ttl = lease_ttl
        self._poll_interval = poll_interval
        self._status_interval = status_interval
        self._wake = asyncio.Event()
        self.publisher = OrderedPublisher(bus)
        self.continuity = StreamContinuity(
            self._streams,
            filler,
            self.publisher,
            self._wake.set,
            fill_attempts=fill_attempts,
            fill_retry=fill_retry,
            telemetry=telemetry,
        )
        self.report = report if report is not None else StreamStatuses(self._streams)
        self._runs: list[asyncio.Task[None]] = []
        self._holding = False
        self._held_until = float("-inf")
        self._renew_at = float("-inf")
        self._announced: frozenset[StreamKey] | None = None
        self._announce_at = float("-inf")
        self._status_at = float("-inf")
        self._last_statuses: tuple[tuple[str, str, int], ...] = ()
        self._holds: dict[str, frozenset[StreamKey]] = {}
        self._background: list[asyncio.Task[None]] = []

    @property
    def holding(self) -> bool:
        """Whether this replica runs the upstream streams now."""
        return self._holding

    async def run(self) -> None:
        """Tick until cancelled, then stop cleanly (streams stopped, lease released)."""
        await self.start()
        try:
            while True:
                await self.tick()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_interval):
                        await self._woken()
        finally:
            await self.stop()

    async def start(self) -> None:
        """Start publishing and listening to the bus (``run`` does it; tests that ``tick``
        by hand call it first)."""
        if self._background:
            return
        listening = self._bus.listen()  # subscribed now: nothing published from here is missed
        loop = asyncio.get_running_loop()
        self._background = [
            loop.create_task(self.publisher.run(), name="live publisher"),
            loop.create_task(self._hear(listening), name="live listener"),
        ]

    async def stop(self) -> None:
        """Stop the streams, publish what is queued, give the lease up (another replica
        takes over at once) and withdraw this replica's demand."""
        await self._stop_streams()
        if self._background:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._poll_interval * 2):
                    await self.publisher.flush()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background = []
        await self._quietly(self._lease.release(), "lease release")
        await self._quietly(self._demand.announce(frozenset(), self._lease_ttl), "demand withdrawal")
        self._held_until = self._renew_at = float("-inf")
        self._announced = None

    async def tick(self) -> None:
        """One round: announce the local demand, keep or lose the lease, start or stop the
        streams, tell them what to hold, publish their statuses."""
        now = self._clock.monotonic()
        local = self._interest.wanted()
        self._interest.changed.clear()
        await self._announce(local, now)
        held = await self._renew(now)
        if held and not self.holding:
            self._start_streams()
        elif not held and self.holding:
            log.warning("stream lease lost: stopping the upstream streams")
            await self._stop_streams()
        if not self.holding:
            return
        assignments = self.continuity.assignments(local | await self._everyone_wants())
        for stream in self._streams:
            keys = assignments.get(stream.name, frozenset())
            if self._holds.get(stream.name) != keys:
                self._holds[stream.name] = keys
                stream.want(keys)
        self._publish_statuses(now)

    async def settled(self) -> None:
        """Wait until no fill is under way and everything queued is published (tests)."""
        await self.continuity.settled()
        await self.publisher.flush()

    # Inside.

    async def _announce(self, local: frozenset[StreamKey], now: float) -> None:
        if local == self._announced and now < self._announce_at:
            return
        if await self._quietly(self._demand.announce(local, self._lease_ttl), "demand announcement"):
            self._announced = local
            self._announce_at = now + self._lease_ttl / 3

    async def _renew(self, now: float) -> bool:
        """The holder renews every ttl/3; the others try every poll, so one of them takes over
        at most a poll after the lease of a holder that died ran out."""
        if now < self._renew_at:
            return now < self._held_until
        try:
            held = await self._lease.hold(self._lease_ttl)
        except Exception as error:  # noqa: BLE001 - the lease store is out: hold on while it lasts
            log.warning("stream lease not renewed: %s: %s", type(error).__name__, error)
            self._renew_at = now + min(self._poll_interval, self._lease_ttl / 3)
            return now < self._held_until
        self._held_until = now + self._lease_ttl if held else float("-inf")
        self._renew_at = now + (
            self._lease_ttl / 3 if held else min(self._poll_interval, self._lease_ttl / 3)
        )
        return held

    async def _everyone_wants(self) -> frozenset[StreamKey]:
        try:
            return await self._demand.wanted()
        except Exception as error:  # noqa: BLE001 - keep holding what is held until it answers
            log.warning("stream demand not read: %s: %s", type(error).__name__, error)
            return frozenset().union(*self._holds.values())

    def _start_streams(self) -> None:
        log.info("stream lease held: starting the upstream streams")
        self._holding = self.report.holding = True
        loop = asyncio.get_running_loop()
        self._holds = {}
        self._status_at = float("-inf")
        self._runs = [
            loop.create_task(stream.run(self.continuity.sink(stream.name)), name=f"stream {stream.name}")
            for stream in self._streams
        ]

    async def _stop_streams(self) -> None:
        if not self._holding:
            return
        for stream in self._streams:
            stream.want(frozenset())
        for task in self._runs:
            task.cancel()
        await asyncio.gather(*self._runs, return_exceptions=True)
        self._runs = []
        self._holds = {}
        self.continuity.reset()
        self._holding = self.report.holding = False

    def _publish_statuses(self, now: float) -> None:
        statuses = self.report.local()
        shape = tuple((s.provider, s.state, s.streams) for s in statuses)
        if shape == self._last_statuses and now < self._status_at:
            return
        self._last_statuses = shape
        self._status_at = now + self._status_interval
        for status in statuses:
            self.publisher.put(status)

    async def _hear(self, messages: AsyncIterator[BusMessage]) -> None:
        try:
            async for message in messages:
                if isinstance(message, StreamStatus):
                    self.report.heard(message)
                elif isinstance(message, CandleEvent):
                    self.continuity.heard(message)
        except Exception:
            log.exception("the live bus listener stopped")
            raise
        finally:
            close = getattr(messages, "aclose", None)
            if close is not None:
                await close()

    async def _woken(self) -> None:
        waits = [
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(self._interest.changed.wait()),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        self._wake.clear()

    @staticmethod
    async def _quietly(call: Awaitable[object], what: str) -> bool:
        try:
            await call
        except Exception as error:  # noqa: BLE001 - the shared store is out; the next tick retries
            log.warning("%s failed: %s: %s", what, type(error).__name__, error)
            return False
        return True
