"""One client connection of the simulated WebSocket side: what Binance's and Kraken's
sessions share (recording, silence, lifetime, sending), with the protocol left to subclasses."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from aiohttp import WSMsgType, web

from .market import Market
from .stream_log import ClientFrame, StreamConnection


@dataclass
class StreamSettings:
    """Timing and limits of the WebSocket side, in real seconds. Sessions read them as they
    go, so a change reaches the connections already open.

    ``ping_interval`` / ``pong_timeout``: Binance pings and the wait for the pong before a
    disconnect. ``heartbeat_interval``: Kraken's heartbeat when nothing else was sent.
    ``max_lifetime``: the cut (Binance's 24 hours). ``message_rate``: incoming frames per
    second a Binance connection may send (over it: disconnected). ``max_streams``: streams
    per Binance connection. ``shutdown_grace``: between the shutdown notice and the close.
    """

    ping_interval: float = 20.0
    pong_timeout: float = 60.0
    heartbeat_interval: float = 1.0
    max_lifetime: float = 24 * 3600.0
    message_rate: int = 5
    max_streams: int = 1024
    shutdown_grace: float = 1.0


def compact(payload: Any) -> str:
    """JSON as the exchanges send it: no spaces."""
    return json.dumps(payload, separators=(",", ":"))


class StreamSession:
    """One accepted WebSocket. Subclasses set ``provider`` and implement ``on_text``,
    ``frames_due`` (what a push sends), ``malformed_frames`` and ``shutdown_notice``; they
    may add side tasks (pings, heartbeats) in ``side_tasks``.

    A silent session sends nothing at all and answers nothing, but keeps the connection open.
    """

    provider: ClassVar[str]

    def __init__(
        self, request: web.Request, record: StreamConnection, market: Market, settings: StreamSettings
    ) -> None:
        self.request = request
        self.record = record
        self.market = market
        self.settings = settings
        self.ws = web.WebSocketResponse(autoping=False, max_msg_size=1024 * 1024, timeout=2.0)
        self.silent = False
        self.last_sent = time.monotonic()
        self._closing = False

    # -- protocol hooks ----------------------------------------------------------------

    async def opened(self) -> None:
        """Right after the handshake (Kraken's status message)."""

    async def on_text(self, text: str) -> None:
        """A text frame from the client."""
        raise NotImplementedError

    def frames_due(self) -> list[Any]:
        """The data frames a push sends now (JSON-ready payloads), in order."""
        raise NotImplementedError

    def malformed_frames(self, shape: str) -> list[str]:
        """Frames that do not parse (``truncated``) or do not fit the format (``wrong_shape``)."""
        raise NotImplementedError

    def shutdown_notice(self) -> Any:
        """What the exchange sends before it goes down for maintenance."""
        raise NotImplementedError

    def side_tasks(self) -> list[asyncio.Task[None]]:
        """Background tasks of the session, cancelled when it ends."""
        return []

    def on_frame(self, frame: ClientFrame) -> bool:
        """Bookkeeping of any incoming frame; False closes the connection (rate limits)."""
        return True

    # -- lifecycle ---------------------------------------------------------------------

    async def serve(self) -> web.WebSocketResponse:
        """Run the session until the client or the simulator closes it."""
        await self.ws.prepare(self.request)
        tasks = [asyncio.create_task(self._lifetime()), *self.side_tasks()]
        try:
            await self.opened()
            async for message in self.ws:
                if not await self._receive(message.type, message.data):
                    break
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if not self.ws.closed:
                with contextlib.suppress(Exception):
                    await self.ws.close()
        return self.ws

    async def _receive(self, kind: WSMsgType, data: Any) -> bool:
        if kind == WSMsgType.TEXT:
            try:
                payload: Any = json.loads(data)
            except ValueError:
                payload = data
            frame = ClientFrame(self.record.id, time.monotonic(), "text", payload)
        elif kind in (WSMsgType.PING, WSMsgType.PONG, WSMsgType.BINARY):
            frame = ClientFrame(self.record.id, time.monotonic(), kind.name.lower(), bytes(data))
        else:
            return True
        self.record.frames.append(frame)
        if self.silent:
            return True
        if not self.on_frame(frame):
            await self.close(1008, "Too many messages")
            return False
        if kind == WSMsgType.PING:
            await self._guarded(self.ws.pong(data))
        elif kind == WSMsgType.PONG:
            self.pong(bytes(data))
        elif kind == WSMsgType.TEXT:
            await self.on_text(data)
        return not self._closing

    def pong(self, payload: bytes) -> None:
        """A pong arrived (Binance's ping loop waits for it)."""

    async def _lifetime(self) -> None:
        started = time.monotonic()
        while True:
            left = started + self.settings.max_lifetime - time.monotonic()
            if left <= 0:
                await self.close(1000, "connection lifetime reached")
                return
            await asyncio.sleep(min(left, 1.0))

    # -- sending -----------------------------------------------------------------------

    async def send(self, payload: Any) -> None:
        """Send one frame (a payload, or raw text) unless the session is silent."""
        if self.silent or self.ws.closed:
            return
        text = payload if isinstance(payload, str) else compact(payload)
        await self._guarded(self.ws.send_str(text))
        self.last_sent = time.monotonic()

    async def push(self) -> int:
        """Send the data frames due now; returns how many."""
        if self.silent or self.ws.closed:
            return 0
        frames = self.frames_due()
        for frame in frames:
            await self.send(frame)
        return len(frames)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close with a close frame."""
        self._closing = True
        await self._guarded(self.ws.close(code=code, message=reason.encode()))

    def abort(self) -> None:
        """Drop the TCP connection without a close frame."""
        self._closing = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def shut_down(self, grace: float) -> None:
        """The shutdown notice, then a close ``grace`` seconds later."""
        await self.send(self.shutdown_notice())
        await asyncio.sleep(grace)
        await self.close(1001, "server shutdown")

    @staticmethod
    async def _guarded(sending: Any) -> None:
        # A client that went away mid-send is the client's business, not the simulator's.
        with contextlib.suppress(ConnectionError, RuntimeError):
            await sending

    def now_ms(self) -> int:
        """The simulator clock in epoch milliseconds."""
        return int(self.market.now() * 1000)
