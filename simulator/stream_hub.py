"""The simulator's WebSocket side: Binance combined streams at ``/binance/stream`` and
Kraken v2 at ``/kraken/v2``, the sessions open on them, pushes of the frames due on the
simulator clock (by hand with ``push`` or on a real-time cadence), faults and recording."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from aiohttp import web

from .binance import BinanceUpstream
from .binance_stream import BinanceStreamSession
from .faults import Fault, FaultBook
from .kraken import KrakenUpstream
from .kraken_stream import KrakenStreamSession
from .market import Market
from .stream_log import StreamLog
from .stream_session import StreamSession, StreamSettings

#: Path of each provider's WebSocket endpoint on the simulator. The service opens
#: ``{BINANCE_WS_URL}/stream`` and ``KRAKEN_WS_URL`` as it is.
PATHS = {"binance": "/binance/stream", "kraken": "/kraken/v2"}
#: What the service's ``*_WS_URL`` settings point at, relative to the provider's base URL.
WS_SUFFIXES = {"binance": "", "kraken": "/v2"}
_PREFIXES = {"binance": "/binance", "kraken": "/kraken"}
#: ``refuse`` stays set (for ``times`` handshakes, or until cleared); the other kinds act at
#: once on the connections open now.
STREAM_FAULTS = frozenset({"refuse", "drop", "silence", "malformed", "cut", "server_shutdown"})
_MALFORMED_SHAPES = ("truncated", "wrong_shape")


def ws_url_of(base_url: str, provider: str) -> str:
    """The WebSocket URL of ``provider`` on the simulator whose base URL for that provider is
    ``base_url`` (``http://127.0.0.1:P/kraken`` -> ``ws://127.0.0.1:P/kraken/v2``)."""
    if provider not in WS_SUFFIXES:
        raise ValueError(f"no WebSocket side for {provider!r}; known: {', '.join(WS_SUFFIXES)}")
    return "ws" + base_url.rstrip("/").removeprefix("http") + WS_SUFFIXES[provider]


def ws_urls(root: str) -> dict[str, str]:
    """The WebSocket URL per provider for a simulator at ``root`` (``http://127.0.0.1:P``)."""
    return {provider: ws_url_of(root + prefix, provider) for provider, prefix in _PREFIXES.items()}


class StreamHub:
    """The WebSocket endpoints of one simulator.

    ``push()`` sends every open connection the frames due at the simulator clock: a closed
    candle's final values exactly once, then the candle in progress, and tickers. With
    ``cadence`` (real seconds) a background task pushes on its own, as the exchanges do.
    """

    providers = tuple(PATHS)

    def __init__(
        self,
        market: Market,
        binance: BinanceUpstream,
        kraken: KrakenUpstream,
        settings: StreamSettings | None = None,
        cadence: float | None = None,
    ) -> None:
        self.market = market
        self.settings = settings or StreamSettings()
        self.cadence = cadence
        self.log = StreamLog()
        self._binance = binance
        self._kraken = kraken
        self._sessions: dict[str, list[StreamSession]] = {provider: [] for provider in PATHS}
        self._refusals = FaultBook()
        self._pusher: asyncio.Task[None] | None = None
        self._shutdowns: set[asyncio.Task[None]] = set()

    def routes(self) -> list[web.RouteDef]:
        """The two WebSocket endpoints."""
        return [
            web.get(PATHS["binance"], self._binance_stream),
            web.get(PATHS["kraken"], self._kraken_stream),
        ]

    @staticmethod
    def handles(path: str) -> bool:
        """Whether ``path`` is a WebSocket endpoint (kept out of the HTTP faults and weight)."""
        return path in PATHS.values()

    def sessions(self, provider: str) -> list[StreamSession]:
        """The sessions of ``provider`` open now, oldest first."""
        return list(self._check(provider))

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the cadence, if any."""
        if self.cadence and self._pusher is None:
            self._pusher = asyncio.create_task(self._push_forever(self.cadence))

    async def stop(self) -> None:
        """Stop the cadence and close every connection."""
        pusher, self._pusher = self._pusher, None
        if pusher is not None:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
        for task in list(self._shutdowns):
            task.cancel()
        for provider in PATHS:
            for session in self.sessions(provider):
                session.abort()

    async def push(self, provider: str | None = None) -> int:
        """Send the frames due now on every open connection (of ``provider``); how many."""
        sent = 0
        for name in PATHS if provider is None else (provider,):
            for session in self.sessions(name):
                sent += await session.push()
        return sent

    async def _push_forever(self, cadence: float) -> None:
        while True:
            await asyncio.sleep(cadence)
            with contextlib.suppress(Exception):
                await self.push()

    # -- faults ------------------------------------------------------------------------

    async def fault(self, provider: str, kind: str, *, times: int | None = None, **params: Any) -> int:
        """Make ``provider``'s WebSocket side misbehave. ``refuse`` answers the next ``times``
        handshakes (all until cleared when None) with HTTP ``status`` (503); returns 0. The
        others act on the connections open now and return how many: ``drop`` (TCP reset, no
        close frame), ``silence`` (nothing more is sent or answered, pings and heartbeats
        included; the connection stays open), ``malformed`` (``shape`` truncated or
        wrong_shape, ``count`` frames), ``cut`` (closed as at the 24-hour limit),
        ``server_shutdown`` (the shutdown notice, then closed after ``grace`` seconds)."""
        sessions = self.sessions(provider)
        if kind not in STREAM_FAULTS:
            raise ValueError(f"no stream fault {kind!r}; kinds: {', '.join(sorted(STREAM_FAULTS))}")
        if kind == "refuse":
            self._refusals.add(
                Fault(provider, "refuse", None, times, {"status": int(params.get("status", 503))})
            )
            return 0
        if kind == "drop":
            for session in sessions:
                session.abort()
        elif kind == "silence":
            for session in sessions:
                session.silent = True
        elif kind == "malformed":
            shape = str(params.get("shape", "truncated"))
            if shape not in _MALFORMED_SHAPES:
                raise ValueError(f"malformed shape must be one of {_MALFORMED_SHAPES}, got {shape!r}")
            for session in sessions:
                for _ in range(int(params.get("count", 1))):
                    for frame in session.malformed_frames(shape):
                        await session.send(frame)
        elif kind == "cut":
            await asyncio.gather(
                *(session.close(1000, "connection lifetime reached") for session in sessions)
            )
        else:
            grace = float(params.get("grace", self.settings.shutdown_grace))
            for session in sessions:
                task = asyncio.create_task(session.shut_down(grace))
                self._shutdowns.add(task)
                task.add_done_callback(self._shutdowns.discard)
        return len(sessions)

    def clear_faults(self, provider: str | None = None) -> int:
        """Lift the handshake refusals and the silence of ``provider`` (all when None)."""
        for name in PATHS if provider is None else (self._provider(provider),):
            for session in self.sessions(name):
                session.silent = False
        return self._refusals.clear(provider)

    def reset(self) -> None:
        """Forget the recording and lift every fault (connections stay open)."""
        self.clear_faults()
        self.log.clear()

    # -- endpoints ---------------------------------------------------------------------

    async def _binance_stream(self, request: web.Request) -> web.StreamResponse:
        initial = [name for name in request.query.get("streams", "").split("/") if name]
        return await self._serve(
            request,
            "binance",
            lambda record: BinanceStreamSession(
                request, record, self.market, self.settings, self._binance, initial
            ),
        )

    async def _kraken_stream(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(
            request,
            "kraken",
            lambda record: KrakenStreamSession(request, record, self.market, self.settings, self._kraken),
        )

    async def _serve(self, request: web.Request, provider: str, build: Any) -> web.StreamResponse:
        refusal = self._refusals.take(provider, PATHS[provider]).answer
        if refusal is not None:
            self.log.refused(provider)
            status = int(refusal.params["status"])
            return web.json_response(
                {"code": -1, "msg": "connection refused by the simulator"}, status=status
            )
        record = self.log.opened(provider)
        session: StreamSession = build(record)
        self._sessions[provider].append(session)
        try:
            return await session.serve()
        finally:
            self._sessions[provider].remove(session)
            record.closed_at = time.monotonic()

    def _check(self, provider: str) -> list[StreamSession]:
        return self._sessions[self._provider(provider)]

    @staticmethod
    def _provider(provider: str) -> str:
        if provider not in PATHS:
            raise ValueError(f"no WebSocket side for {provider!r}; known: {', '.join(PATHS)}")
        return provider
