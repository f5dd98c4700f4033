"""``UpstreamSimulator``: five public crypto APIs on one loopback aiohttp server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Self

from aiohttp import web

from .alternative_me import AlternativeMeUpstream
from .binance import BinanceUpstream
from .binance_params import SYMBOLS
from .coincap import CoinCapUpstream
from .coingecko import CoinGeckoUpstream
from .control import PREFIX as CONTROL_PREFIX
from .control import control_routes
from .error_pages import cloudflare_page
from .faults import Fault, FaultBook
from .history import History
from .kraken import KrakenUpstream, canonical_pair
from .market import Market
from .recording import CallLog, Headers, RecordedRequest
from .stream_hub import StreamHub, ws_urls
from .stream_session import StreamSettings
from .upstream import EFFECTS, Handler, Upstream

#: How long a ``timeout`` fault keeps a request waiting (unless the simulator stops).
HANG_SECONDS = 3_600.0


class UpstreamSimulator:
    """Binance, Kraken, CoinGecko, CoinCap and alternative.me speaking their real wire
    formats on one aiohttp server, with fault injection and call recording.

    ``now`` is the clock (Unix seconds) every provider reads; pass a fixed one for fully
    reproducible answers. ``seed`` fixes the market. ``coincap_api_key`` makes CoinCap
    accept only that key (default: any non-empty key). ``kraken_last_as_string`` makes
    Kraken's OHLC ``last`` a string. ``binance_weight_limit`` is the request weight per
    minute before Binance answers 429 (None: unlimited). ``streams`` is the WebSocket side
    (``stream_settings`` its timings and limits; ``stream_cadence`` real seconds between
    pushes of live frames, None: only when ``streams.push()`` is called).

    All state lives on the instance: simulators in one process do not interfere.
    """

    def __init__(
        self,
        now: Callable[[], float] = time.time,
        seed: int = 7,
        *,
        coincap_api_key: str | None = None,
        kraken_last_as_string: bool = False,
        binance_weight_limit: int | None = 6000,
        stream_settings: StreamSettings | None = None,
        stream_cadence: float | None = None,
    ) -> None:
        self.market = Market(seed=seed, now=now)
        self._upstreams: dict[str, Upstream] = {
            upstream.name: upstream
            for upstream in (
                BinanceUpstream(self.market, binance_weight_limit),
                KrakenUpstream(self.market, kraken_last_as_string),
                CoinGeckoUpstream(self.market),
                CoinCapUpstream(self.market, coincap_api_key),
                AlternativeMeUpstream(self.market),
            )
        }
        kraken = self._upstreams["kraken"]
        assert isinstance(kraken, KrakenUpstream)
        self.streams = StreamHub(self.market, self._binance, kraken, stream_settings, stream_cadence)
        self._faults = FaultBook()
        self._log = CallLog()
        self._runner: web.AppRunner | None = None
        self._root: str | None = None
        self._stopping = asyncio.Event()
        self.app = self._build_app()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: a free port); returns the root URL."""
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        self._stopping = asyncio.Event()
        runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        bound_host, bound_port = runner.addresses[0][:2]
        self._runner = runner
        self._root = f"http://{bound_host}:{bound_port}"
        self.streams.start()
        return self._root

    async def stop(self) -> None:
        """Stop listening; requests held by ``timeout`` or ``slow`` faults are dropped."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._stopping.set()
        await self.streams.stop()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def root(self) -> str:
        """``http://127.0.0.1:PORT`` once started."""
        if self._root is None:
            raise RuntimeError("simulator not started")
        return self._root

    @property
    def base_urls(self) -> dict[str, str]:
        """Base URL per provider id, as the service's ``*_BASE_URL`` settings want them."""
        return {name: self.root + upstream.prefix for name, upstream in self._upstreams.items()}

    @property
    def ws_urls(self) -> dict[str, str]:
        """WebSocket URL per streaming provider, as the service's ``*_WS_URL`` settings want
        them (``ws://127.0.0.1:PORT/binance``: the service adds ``/stream``)."""
        return ws_urls(self.root)

    @property
    def providers(self) -> tuple[str, ...]:
        """The provider ids."""
        return tuple(self._upstreams)

    # -- faults ------------------------------------------------------------------------

    def set_fault(
        self, provider: str, kind: str, *, path: str | None = None, times: int | None = None, **params: Any
    ) -> Fault:
        """Make ``provider`` misbehave as ``kind`` for requests to ``path`` (all when None),
        for the next ``times`` of them (until cleared when None)."""
        upstream = self._upstream(provider)
        if kind not in upstream.fault_kinds:
            supported = ", ".join(sorted(upstream.fault_kinds))
            raise ValueError(f"{provider} has no fault {kind!r}; it supports: {supported}")
        return self._faults.add(Fault(provider, kind, path, times, dict(params)))

    def clear_faults(self, provider: str | None = None) -> int:
        """Remove the faults of ``provider`` (all when None); returns how many."""
        if provider is not None:
            self._upstream(provider)
        return self._faults.clear(provider)

    def faults(self, provider: str | None = None) -> list[Fault]:
        """The faults still set."""
        return self._faults.active(provider)

    # -- recording ---------------------------------------------------------------------

    def calls(self, provider: str, path: str | None = None) -> int:
        """Requests ``provider`` received (faulted ones included), optionally for one path."""
        self._upstream(provider)
        return self._log.calls(provider, path)

    def call_counts(self) -> dict[str, int]:
        """Requests per provider."""
        return self._log.counts(self._upstreams)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, oldest first."""
        return self._log.requests

    def reset_calls(self) -> None:
        """Forget the recorded requests (and Binance's used weight)."""
        self._log.clear()
        self._binance.weight.reset()

    # -- market ------------------------------------------------------------------------

    def set_price(self, base_symbol: str, usd: float) -> None:
        """Set the true USD price of an asset (``MATIC`` and ``POL`` are one asset)."""
        self.market.set_price(base_symbol, usd)

    def price(self, base_symbol: str) -> float:
        """The true USD price of an asset."""
        return self.market.price(base_symbol)

    def reset(self) -> None:
        """Back to a fresh state: no calls, no faults, catalogue prices, no outages."""
        self.reset_calls()
        self._faults.clear()
        self.streams.reset()
        self.market.reset_prices()
        self.clear_history()

    # -- history -----------------------------------------------------------------------

    def set_outage(self, provider: str, start_ms: int, end_ms: int) -> None:
        """``provider`` ("binance" or "kraken") had no trades in ``[start_ms, end_ms)``: no
        candle lies wholly inside it, in REST answers or on its WebSocket streams."""
        self._history(provider).add_outage(start_ms, end_ms)

    def set_listing(self, provider: str, market: str, listed_ms: int) -> None:
        """``market`` of ``provider`` (a Binance symbol, a Kraken pair or its alias) has no
        candle before the one containing ``listed_ms``."""
        self._history(provider).set_listing(self._market_key(provider, market), listed_ms)

    def history(self, provider: str | None = None) -> dict[str, Any]:
        """Outages and explicit listing times, per history-serving provider."""
        names = [provider] if provider is not None else ["binance", "kraken"]
        return {
            name: {
                "outages": [{"start": s, "end": e} for s, e in self._history(name).outages()],
                "listings": self._history(name).listings(),
            }
            for name in names
        }

    def clear_history(self, provider: str | None = None) -> None:
        """Forget outages and listing times (of ``provider``; all when None)."""
        for name in [provider] if provider is not None else ["binance", "kraken"]:
            self._history(name).clear()

    def _history(self, provider: str) -> History:
        upstream = self._upstream(provider)
        if not isinstance(upstream, (BinanceUpstream, KrakenUpstream)):
            raise ValueError(f"{provider} serves no candle history; binance and kraken do")
        return upstream.history

    def _market_key(self, provider: str, market: str) -> str:
        if provider == "binance":
            if market not in SYMBOLS:
                raise ValueError(f"binance has no symbol {market!r}")
            return market
        key = canonical_pair(market)
        if key is None:
            raise ValueError(f"kraken has no pair {market!r}")
        return key

    # -- plumbing ----------------------------------------------------------------------

    @property
    def _binance(self) -> BinanceUpstream:
        upstream = self._upstreams["binance"]
        assert isinstance(upstream, BinanceUpstream)
        return upstream

    def _upstream(self, provider: str) -> Upstream:
        try:
            return self._upstreams[provider]
        except KeyError:
            known = ", ".join(self._upstreams)
            raise ValueError(f"unknown provider {provider!r}; known: {known}") from None

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._dispatch])
        for upstream in self._upstreams.values():
            app.add_routes(upstream.routes())
        app.add_routes(self.streams.routes())
        app.add_routes(control_routes(self))
        return app

    def _locate(self, path: str) -> tuple[Upstream, str] | None:
        """The provider a request path belongs to, and the path after its prefix."""
        if path.startswith(CONTROL_PREFIX):
            return None
        first = path.split("/", 2)[1]
        upstream = self._upstreams.get(first)
        if upstream is None:
            return None
        if path == upstream.prefix or path.startswith(upstream.prefix + "/"):
            return upstream, path[len(upstream.prefix) :] or "/"
        return upstream, path

    @web.middleware
    async def _dispatch(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.streams.handles(request.path):  # WebSockets have faults and a log of their own
            return await handler(request)
        located = self._locate(request.path)
        if located is None:
            return await handler(request)
        upstream, path = located
        self._log.record(
            RecordedRequest(upstream.name, path, dict(request.query), Headers(request.headers.items()))
        )
        upstream.before(request, path)
        effects = self._faults.take(upstream.name, path)
        request[EFFECTS] = effects
        if effects.delay and await self._pause(effects.delay):
            return self._drop(request)
        if effects.answer is not None:
            return await self._answer(upstream, effects.answer, request, path, handler)
        refusal = upstream.admit(request, path)
        response = refusal if refusal is not None else await handler(request)
        upstream.finish(request, response)
        return response

    async def _answer(
        self, upstream: Upstream, fault: Fault, request: web.Request, path: str, handler: Handler
    ) -> web.StreamResponse:
        kind = fault.kind
        if kind == "timeout":
            await self._pause(HANG_SECONDS)
            return self._drop(request)
        if kind == "connection_reset":
            return self._drop(request)
        if kind == "html":
            return cloudflare_page(int(fault.params.get("status", 502)), upstream.host)
        if kind == "malformed_json":
            return await self._truncated(request, handler)
        if kind == "oversized":
            return await self._oversized(request, int(fault.params.get("size", 6 * 1024 * 1024)))
        response = upstream.answer(fault, request, path)
        upstream.finish(request, response)
        return response

    async def _truncated(self, request: web.Request, handler: Handler) -> web.Response:
        """The normal answer cut in half: a 200 whose JSON never ends."""
        try:
            normal = await handler(request)
            body = normal.body if isinstance(normal, web.Response) else None
        except web.HTTPException as error:
            body = error.text.encode() if error.text else None
        raw = body if isinstance(body, bytes) and len(body) > 1 else b'{"data":[{"id":"bitcoin"}]}'
        return web.Response(body=raw[: len(raw) // 2], content_type="application/json")

    @staticmethod
    async def _oversized(request: web.Request, size: int) -> web.StreamResponse:
        """A 200 whose JSON goes on for ``size`` bytes, streamed without a Content-Length."""
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b" " * 65536
        for _ in range(size // len(chunk)):
            await response.write(chunk)
        await response.write(b"[]")
        await response.write_eof()
        return response

    async def _pause(self, seconds: float) -> bool:
        """Sleep ``seconds``; True if the simulator started stopping meanwhile."""
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        """Close the connection without answering."""
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=204)
