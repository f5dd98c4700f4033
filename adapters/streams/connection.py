"""One WebSocket connection of a stream provider, from the handshake to its end: it
subscribes the topics of its shard in paced batches, answers pings, reads frames into
events, and ends when the exchange closes it, goes silent, asks for a rotation, or when its
lifetime is up."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp

from adapters.streams.frames import (
    Ack,
    CandleFrame,
    ControlMessage,
    Dialect,
    MalformedFrame,
    Rotate,
    TickerFrame,
)
from adapters.streams.rate_slots import RateSlots
from adapters.streams.shard import Shard
from adapters.streams.timing import StreamTiming
from domain.live import CandleEvent, StreamEvent, StreamKey, TickerEvent


@dataclass(frozen=True, slots=True)
class Ending:
    """Why a connection ended. ``was_up``: its subscriptions had been acknowledged;
    ``rotate``: planned, reconnect at once; ``idle``: closed because nothing is wanted."""

    reason: str
    was_up: bool
    rotate: bool = False
    idle: bool = False


class Owner(Protocol):
    """What a connection reports to, and asks of, the stream provider that opened it."""

    def keys_of(self, topic: str) -> frozenset[StreamKey]:
        """The wanted keys that ``topic`` carries."""
        ...

    def heard(self) -> None:
        """A frame of any kind arrived."""
        ...

    def malformed(self, reason: str) -> None:
        """A frame was skipped."""
        ...

    def refused(self, topics: dict[str, str]) -> None:
        """The exchange refused these topics (topic -> its reason)."""
        ...

    def up(self) -> None:
        """The connection's subscriptions are acknowledged."""
        ...

    def live(self, keys: frozenset[StreamKey]) -> None:
        """``keys`` flow from now on."""
        ...

    def event(self, event: StreamEvent) -> None:
        """A data event for a live key."""
        ...


@dataclass
class _Request:
    message: ControlMessage
    subscribe: bool
    outstanding: set[str]
    ok: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    held: list[CandleFrame | TickerFrame] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Connection:
    """One open WebSocket of ``shard`` (see the module docstring)."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        shard: Shard,
        dialect: Dialect,
        owner: Owner,
        timing: StreamTiming,
    ) -> None:
        self.ws = ws
        self.shard = shard
        self.is_up = False
        self.live_keys: set[StreamKey] = set()
        self._dialect = dialect
        self._owner = owner
        self._timing = timing
        self._reader = dialect.reader()
        self._pacing = RateSlots(timing.control_limit, timing.control_window)
        self._requests: dict[int, _Request] = {}
        self._next_id = 1

    async def hold(self) -> Ending:
        """Run the connection until it ends; closes the socket. Never raises but
        ``CancelledError``."""
        tasks = [
            asyncio.create_task(self._read()),
            asyncio.create_task(self._control()),
            asyncio.create_task(self._lifetime()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finished = next(iter(done))
            error = finished.exception()
            return finished.result() if error is None else Ending(f"connection error: {error!r}", self.is_up)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._pacing.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._timing.close_timeout):
                    await self.ws.close()

    # -- reading -----------------------------------------------------------------------

    async def _read(self) -> Ending:
        timeout = self._timing.liveness_timeout
        while True:
            try:
                message = await self.ws.receive(timeout=timeout)
            except TimeoutError:
                return Ending(f"no frame for {timeout:g} s", self.is_up)
            kind = message.type
            if kind in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                return Ending(f"closed by the exchange (code {self.ws.close_code})", self.is_up)
            if kind == aiohttp.WSMsgType.ERROR:
                return Ending(f"connection error: {message.data!r}", self.is_up)
            self._owner.heard()
            if kind == aiohttp.WSMsgType.PING:
                await self._pacing.acquire()  # pongs count against the exchange's message rate
                await self.ws.pong(message.data)
            elif kind == aiohttp.WSMsgType.TEXT:
                ending = self._text(message.data)
                if ending is not None:
                    return ending
            elif kind == aiohttp.WSMsgType.BINARY:
                self._owner.malformed("binary frame")

    def _text(self, text: str) -> Ending | None:
        try:
            frames = self._reader.read(text)
        except MalformedFrame as error:
            self._owner.malformed(str(error))
            return None
        for frame in frames:
            if isinstance(frame, Ack):
                self._acknowledged(frame)
            elif isinstance(frame, (CandleFrame, TickerFrame)):
                self._data(frame)
            elif isinstance(frame, Rotate):
                return Ending(f"rotation: {frame.reason}", self.is_up, rotate=True)
        return None

    def _acknowledged(self, ack: Ack) -> None:
        request = self._requests.get(ack.request_id) if ack.request_id is not None else None
        if request is None:
            return
        if ack.symbol is None:
            topics = set(request.outstanding)
        else:
            topics = {t for t in request.outstanding if self._dialect.topic_symbol(t) == ack.symbol}
        request.outstanding -= topics
        if ack.ok:
            request.ok |= topics
        else:
            request.failed.update(dict.fromkeys(topics, ack.reason or "refused by the exchange"))
        if not request.outstanding:
            self._complete(request)

    def _complete(self, request: _Request) -> None:
        del self._requests[request.message.request_id]
        if request.subscribe:
            self.shard.subscribed |= request.ok
            if request.failed:
                self._owner.refused(request.failed)
            self.announce()
            for frame in request.held:
                self._data(frame)
            self.shard.changed.set()  # a topic unwanted while pending is unsubscribed now
        request.done.set()

    def _data(self, frame: CandleFrame | TickerFrame) -> None:
        if frame.topic not in self.shard.subscribed:
            for request in self._requests.values():
                if request.subscribe and frame.topic in request.message.topics:
                    request.held.append(frame)  # released right after its ``live``
            return
        for key in self._owner.keys_of(frame.topic):
            if key in self.live_keys:
                self._owner.event(_event(frame, key, self._dialect.provider))

    # -- control -----------------------------------------------------------------------

    def announce(self) -> None:
        """Report the keys that flow from now on: those of newly acknowledged topics, and new
        keys of topics already subscribed (Kraken streams USDT keys from the USD market)."""
        keys = {key for topic in self.shard.subscribed for key in self._owner.keys_of(topic)}
        new = keys - self.live_keys
        self.live_keys = keys
        if new:
            self._owner.live(frozenset(new))

    async def _control(self) -> Ending:
        while True:
            self.shard.changed.clear()
            wanted = set(self.shard.topics)
            pending = {t for r in self._requests.values() if r.subscribe for t in r.message.topics}
            if not wanted and not pending:
                return Ending("nothing wanted", self.is_up, idle=True)
            dropped = self.shard.subscribed - wanted
            added = sorted(wanted - self.shard.subscribed - pending)
            if dropped:
                self.shard.subscribed -= dropped
                for message in self._numbered(self._dialect.unsubscribe(sorted(dropped), self._next_id)):
                    await self._send(message, subscribe=False)  # its answer needs no waiting for
            sent = [
                await self._send(message, subscribe=True)
                for message in self._numbered(self._dialect.subscribe(added, self._next_id))
            ]
            self.announce()
            if sent:
                try:
                    async with asyncio.timeout(self._timing.ack_timeout):
                        for request in sent:
                            await request.done.wait()
                except TimeoutError:
                    return Ending(f"no acknowledgement within {self._timing.ack_timeout:g} s", self.is_up)
            if not self.is_up:
                self.is_up = True
                self._owner.up()
            await self.shard.changed.wait()

    def _numbered(self, messages: list[ControlMessage]) -> list[ControlMessage]:
        if messages:
            self._next_id = max(message.request_id for message in messages) + 1
        return messages

    async def _send(self, message: ControlMessage, subscribe: bool) -> _Request:
        request = _Request(message, subscribe, set(message.topics))
        if subscribe:  # registered before it goes: the answer may come before send_str returns
            self._requests[message.request_id] = request
        await self._pacing.acquire()
        await self.ws.send_str(json.dumps(message.payload, separators=(",", ":")))
        return request

    async def _lifetime(self) -> Ending:
        await asyncio.sleep(self._timing.max_lifetime)
        return Ending("rotation: connection lifetime", self.is_up, rotate=True)


def _event(frame: CandleFrame | TickerFrame, key: StreamKey, source: str) -> StreamEvent:
    if isinstance(frame, CandleFrame):
        assert key.interval is not None
        return CandleEvent(key.symbol, key.interval, frame.candle, frame.closed, frame.event_time, source)
    return TickerEvent(
        key.symbol,
        frame.last,
        frame.open_24h,
        frame.high_24h,
        frame.low_24h,
        frame.volume_base,
        frame.volume_quote,
        frame.event_time,
        source,
    )
