"""One client of ``GET /ws``: its subscriptions, its inbox, and the order of what it is sent.

Two tasks per subscribed connection: the handler's, which reads the client's messages and
answers them one at a time, and a pump that forwards the inbox's updates (created with the
first subscription, so an idle connection has none). Both send under one lock, which keeps
each subscription's order: ``subscribed``, then its snapshot, then its updates. A connection
is closed by one task (``begin_close``), whoever asks: the pump when the feed drops a slow
client (1013) or ends (1001), the drain (1001), the handler for a binary frame (1003).
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from application.live.feed import FeedClosed, Inbox, LiveFeed, SlowSubscriber, Watch
from application.live.live_indicators import IndicatorWatch, LiveIndicators
from application.live.updates import CandleUpdate, LiveUpdate
from domain.client_input import quoted
from domain.errors import InvalidParameter
from entrypoints import edge_rules
from entrypoints.rest import schemas
from entrypoints.rest.errors import ApiError, answer_for
from entrypoints.rest.live import schemas as live_schemas
from entrypoints.rest.live.client_ops import BadOp, ClientOp, RequestId, parse_op
from entrypoints.rest.live.edge import LiveEdge
from entrypoints.rest.live.message_rate import MessageRate
from entrypoints.rest.live.ws_indicators import IndicatorSubscriptions

log = structlog.get_logger("live")

# Close codes (RFC 6455 section 7.4.1) and their reasons.
GOING_AWAY = 1001
UNSUPPORTED_DATA = 1003
INTERNAL_ERROR = 1011
TRY_AGAIN_LATER = 1013
_MAX_REASON = 123  # bytes a close frame's reason may have

Key = tuple[str, ...]
Topic = tuple[str, str] | str  # (pair, interval) of candles (and indicators), or "prices"


class WsSession:
    """One WebSocket connection (see the module's docstring)."""

    def __init__(self, ws: web.WebSocketResponse, feed: LiveFeed, live: LiveEdge,
                 indicators: LiveIndicators | None = None) -> None:  # fmt: skip
        self._ws = ws
        self._feed = feed
        self._live_indicators = indicators
        self._indicators = IndicatorSubscriptions(live.messages)
        self._live = live
        self._loop = asyncio.get_running_loop()
        self._rate = MessageRate(live.ws.messages_per_second, self._loop.time())
        self._inbox: Inbox | None = None
        self._pump: asyncio.Task[None] | None = None
        self._watches: dict[Key, Watch | IndicatorWatch] = {}
        self._candles: set[tuple[str, str]] = set()  # (pair, interval) of the candles subscriptions
        self._prices = 0  # prices subscriptions
        # Topics whose subscription is being made: their updates wait here for its snapshot.
        self._opening: dict[Topic, list[LiveUpdate]] = {}
        self._send = asyncio.Lock()
        self._closer: asyncio.Task[Any] | None = None

    @property
    def subscriptions(self) -> int:
        """Subscriptions held now."""
        return len(self._watches)

    async def run(self) -> None:
        """Serve the connection until either side closes it; release everything then."""
        ws = self._ws
        try:
            while self._closer is None:
                message = await ws.receive()
                if message.type is WSMsgType.TEXT:
                    try:
                        await self._on_text(message.data)
                    except ConnectionError:  # the client went away while it was answered
                        break
                elif message.type is WSMsgType.BINARY:
                    self.begin_close(UNSUPPORTED_DATA, "binary frames are not accepted: send JSON text")
                else:  # closed by the client, or by aiohttp: 1009 for a message over the size cap,
                    break  # 1006 when a heartbeat ping went unanswered
        finally:
            await self._release()

    def begin_close(self, code: int, reason: str) -> None:
        """Close the connection with ``code`` and ``reason`` (once; later calls change nothing)."""
        if self._closer is None:
            message = reason.encode()[:_MAX_REASON]
            self._closer = self._loop.create_task(self._ws.close(code=code, message=message))

    async def _release(self) -> None:
        pump, self._pump = self._pump, None
        if pump is not None:
            pump.cancel()
        if self._inbox is not None:
            self._inbox.close()  # stops every watch
        self._watches.clear()
        if self._closer is not None:
            await asyncio.shield(self._closer)  # the closing handshake, started by another task

    # -- client messages ------------------------------------------------------------------

    async def _on_text(self, text: str) -> None:
        allowed, answer = self._rate.take(self._loop.time())
        if not allowed:
            if answer:
                limit = self._live.ws.messages_per_second
                await self._error(None, ApiError(
                    429, "RATE_LIMITED", f"more than {limit} messages a second (WS_MAX_MESSAGES_PER_SECOND); "
                    "messages are ignored until the rate falls", {"limit": limit, "group": "messages"},
                    self._rate.retry_after()))  # fmt: skip
            return
        try:
            op = parse_op(text)
        except BadOp as bad:
            await self._error(bad.id, bad.error)
            return
        try:
            if op.op == "ping":
                await self._send_frames(self._encode(live_schemas.PongMessage(id=op.id), "id"))
            elif op.op == "subscribe":
                await self._subscribe(op)
            else:
                await self._unsubscribe(op)
        except ConnectionError:  # the client went away while it was answered: no refusal, no bug
            raise
        except Exception as error:  # noqa: BLE001 - every refusal is an error message, never a close
            await self._error(op.id, error)

    def _key(self, op: ClientOp) -> tuple[Key, str | None]:
        """The subscription's identity, validated as the feed validates it, and the interval
        the feed is asked for (the REST default when the client named none)."""
        live = self._live
        if op.channel == "candles":
            symbol = live.symbols.parse(op.symbol)
            interval = live.intervals.parse(op.interval if op.interval is not None else live.default_interval)
            return ("candles", symbol.pair, interval.name), interval.name
        if op.channel == "indicators":  # checked as GET /api/indicators checks it, before anything else
            symbol, interval = self._indicator_source().check(
                op.symbol, op.interval if op.interval is not None else live.default_interval, op.indicators)
            return ("indicators", symbol.pair, interval.name, op.indicators or ""), interval.name
        raw = ",".join(op.symbols) if op.symbols is not None else None
        return ("prices", *sorted(live.symbols.parse_bases(raw))), None

    async def _subscribe(self, op: ClientOp) -> None:
        key, interval = self._key(op)
        if key in self._watches:
            raise InvalidParameter(f"already subscribed to {_describe(key)}", field="channel")
        limit = self._live.ws.max_subscriptions
        if len(self._watches) >= limit:
            raise ApiError(429, "RATE_LIMITED", f"at most {limit} subscriptions per connection "
                           "(WS_MAX_SUBSCRIPTIONS): unsubscribe first", {"limit": limit, "group": "subscriptions"})  # fmt: skip
        inbox = self._inbox_with_pump()
        topic: Topic = (key[1], key[2]) if key[0] != "prices" else "prices"
        opening = self._opening.setdefault(topic, [])
        try:
            watch: Watch | IndicatorWatch
            if op.channel == "candles":
                watch = await self._feed.watch_candles(inbox, op.symbol, interval)
            elif op.channel == "indicators":
                watch = await self._indicator_source().watch(inbox, op.symbol, interval, op.indicators or "")
            else:
                watch = await self._feed.watch_prices(inbox, list(op.symbols) if op.symbols is not None else None)
        except BaseException:
            self._opened(topic, opening)
            raise
        if self._closer is not None or key in self._watches:  # closed, or subscribed meanwhile
            watch.stop()
            self._opened(topic, opening)
            return
        async with self._send:  # subscribed, the snapshot, then what came while it was made
            self._watches[key] = watch
            if isinstance(watch, IndicatorWatch):
                self._indicators.add(watch)
                snapshot = self._live.messages.indicators(watch.snapshot)
            else:
                snapshot = self._live.messages.json(watch.snapshot)
                if key[0] == "candles":
                    self._candles.add((key[1], key[2]))
                else:
                    self._prices += 1
            queued = self._opened(topic, opening)
            await self._send_unlocked(self._echo("subscribed", op))
            await self._send_unlocked(snapshot)
            for update in queued:
                for frame in await self._frames(update):
                    await self._send_unlocked(frame)

    def _opened(self, topic: Topic, opening: list[LiveUpdate]) -> list[LiveUpdate]:
        """The subscription of ``topic`` is made (or failed): its updates flow again; returns
        those that waited for it."""
        if self._opening.get(topic) is opening:
            del self._opening[topic]
        return opening

    async def _unsubscribe(self, op: ClientOp) -> None:
        key, _ = self._key(op)
        watch = self._watches.pop(key, None)
        if watch is None:
            raise InvalidParameter(f"not subscribed to {_describe(key)}", field="channel")
        watch.stop()
        if isinstance(watch, IndicatorWatch):
            self._indicators.discard(watch)
        elif key[0] == "candles":
            self._candles.discard((key[1], key[2]))
        else:
            self._prices -= 1
        await self._send_frames(self._echo("unsubscribed", op))

    def _echo(self, kind: str, op: ClientOp) -> bytes:
        """``subscribed`` / ``unsubscribed`` with the request's own fields."""
        fields = dict(op.echo)
        body = live_schemas.SubscribedMessage(type=kind, **fields).body()  # type: ignore[arg-type]
        return self._live.messages.encode({name: value for name, value in body.items()
                                           if name == "type" or name in fields})  # fmt: skip

    async def _error(self, request_id: RequestId, error: Exception) -> None:
        answer = answer_for(error)
        if answer is None:
            log.error("unhandled error in a WebSocket message", exc_info=error)
            detail = schemas.ErrorDetail(code="INTERNAL_ERROR", message=edge_rules.INTERNAL_MESSAGE)
        else:
            detail = schemas.ErrorDetail(code=answer.code, message=answer.message, details=answer.details,  # type: ignore[arg-type]
                                         retry_after=answer.retry_after)  # fmt: skip
        await self._send_frames(self._encode(live_schemas.ErrorMessage(id=request_id, error=detail)))

    def _encode(self, message: schemas.ApiModel, *absent_when_none: str) -> bytes:
        body = live_schemas.without_absent(message.body(), *absent_when_none)
        return self._live.messages.encode(body)

    # -- sending --------------------------------------------------------------------------

    async def _send_frames(self, *frames: bytes) -> None:
        async with self._send:
            for frame in frames:
                await self._send_unlocked(frame)

    async def _send_unlocked(self, frame: bytes) -> None:
        if self._closer is None:
            await self._ws.send_frame(frame, WSMsgType.TEXT)

    def _inbox_with_pump(self) -> Inbox:
        inbox = self._inbox
        if inbox is None:
            inbox = self._inbox = self._feed.inbox()
            self._pump = self._loop.create_task(self._forward(inbox))
        return inbox

    def _topic(self, update: LiveUpdate) -> Topic:
        if isinstance(update, CandleUpdate):
            return (update.symbol.pair, update.interval.name)
        return "prices"

    def _indicator_source(self) -> LiveIndicators:
        if self._live_indicators is None:
            raise RuntimeError("a WebSocket session without live indicators")
        return self._live_indicators

    async def _frames(self, update: LiveUpdate) -> list[bytes]:
        """What ``update`` makes for the subscriptions the client still holds (updates queued
        before an unsubscribe are not sent after it): the update itself for candles and
        prices, the newest row of each indicator set following its market."""
        if not isinstance(update, CandleUpdate):
            return [self._live.messages.json(update)] if self._prices > 0 else []
        market = (update.symbol.pair, update.interval.name)
        frames = [self._live.messages.json(update)] if market in self._candles else []
        if market in self._indicators:
            frames += await self._indicators.frames(update)
        return frames

    async def _forward(self, inbox: Inbox) -> None:
        """The pump: every update of the inbox to the client, each encoded once for everyone."""
        lock = self._send
        send = self._ws.send_frame
        try:
            while True:
                update = await inbox.get()
                waiting = self._opening.get(self._topic(update)) if self._opening else None
                if waiting is not None:  # its subscription's snapshot is not sent yet
                    waiting.append(update)
                else:
                    frames = await self._frames(update)
                    if frames:
                        async with lock:
                            for frame in frames:
                                if self._closer is not None:
                                    return
                                await send(frame, WSMsgType.TEXT)
        except SlowSubscriber as slow:
            log.info("slow WebSocket client dropped", reason=slow.reason)
            self.begin_close(TRY_AGAIN_LATER, slow.reason)
        except FeedClosed:
            self.begin_close(GOING_AWAY, "the live feed closed")
        except ConnectionError:  # the client went away; the handler's read ends by itself
            return
        except Exception:  # noqa: BLE001 - a bug: say so in the logs and to the client, once
            log.exception("live update not delivered")
            self.begin_close(INTERNAL_ERROR, "internal error")


def _describe(key: Key) -> str:
    """``candles BTCUSDT 1m`` or ``prices BTC,ETH`` (parsed values only, short by construction)."""
    if key[0] == "indicators":  # the indicators as the client wrote them: quoted, so cut short
        return f"indicators {key[1]} {key[2]} {quoted(key[3])}"
    return f"{key[0]} {' '.join(key[1:])}" if key[0] == "candles" else f"prices {','.join(key[1:])}"
