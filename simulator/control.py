"""The control API under ``/__sim``, for driving a simulator from another process.

- ``GET /__sim`` -> ``{"base_urls": {...}}``
- ``POST /__sim/faults`` ``{"provider", "kind", "path"?, "times"?, ...params}`` -> 201
- ``GET /__sim/faults`` -> the faults still set; ``DELETE /__sim/faults[?provider=]``
- ``GET /__sim/calls`` -> ``{provider: count}``; ``GET /__sim/requests`` -> the log
- ``POST /__sim/prices`` ``{"BTC": 70000, ...}`` -> set true prices
- ``POST /__sim/reset`` -> forget calls, faults and price changes
- ``GET /__sim/streams`` -> WebSocket connections per provider (opened, open, subscriptions)
- ``POST /__sim/streams/faults`` ``{"provider", "kind", ...params}`` -> ``{"affected": N}``;
  ``DELETE /__sim/streams/faults[?provider=]`` lifts refusals and silence
- ``POST /__sim/streams/push`` -> send the live frames due now: ``{"frames": N}``
- ``POST /__sim/outages`` ``{"provider", "start", "end"}`` (Unix ms, ``[start, end)``) -> 201:
  no candle wholly inside; ``POST /__sim/listings`` ``{"provider", "market", "time"}`` -> 201:
  no candle before the one containing ``time``; ``GET /__sim/history[?provider=]`` shows
  both; ``DELETE /__sim/history[?provider=]`` forgets them
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Protocol

from aiohttp import web

from .faults import Fault
from .recording import RecordedRequest
from .stream_hub import StreamHub
from .upstream import json_answer

PREFIX = "/__sim"


class Controlled(Protocol):
    """What the control API drives: the simulator that mounts it (``UpstreamSimulator``,
    whose methods of the same names these are). Named here so that the server can import
    the routes without the routes importing the server."""

    @property
    def base_urls(self) -> dict[str, str]:
        """Base URL per provider id."""
        ...

    @property
    def ws_urls(self) -> dict[str, str]:
        """WebSocket URL per streaming provider."""
        ...

    def set_fault(
        self, provider: str, kind: str, *, path: str | None = None, times: int | None = None, **params: Any
    ) -> Fault:
        """Make ``provider`` misbehave as ``kind``; ValueError for an unknown provider or kind."""
        ...

    def faults(self, provider: str | None = None) -> list[Fault]:
        """The faults still set."""
        ...

    def clear_faults(self, provider: str | None = None) -> int:
        """Remove the faults of ``provider`` (all when None); returns how many."""
        ...

    def call_counts(self) -> dict[str, int]:
        """Requests per provider."""
        ...

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, oldest first."""
        ...

    def set_price(self, base_symbol: str, usd: float) -> None:
        """Set the true USD price of an asset."""
        ...

    def price(self, base_symbol: str) -> float:
        """The true USD price of an asset."""
        ...

    def reset(self) -> None:
        """Back to a fresh state: no calls, no faults, catalogue prices."""
        ...

    def set_outage(self, provider: str, start_ms: int, end_ms: int) -> None:
        """No candle of ``provider`` wholly inside ``[start_ms, end_ms)``."""
        ...

    def set_listing(self, provider: str, market: str, listed_ms: int) -> None:
        """No candle of ``market`` before the one containing ``listed_ms``."""
        ...

    def history(self, provider: str | None = None) -> dict[str, Any]:
        """Outages and listing times per provider."""
        ...

    def clear_history(self, provider: str | None = None) -> None:
        """Forget outages and listing times."""
        ...

    @property
    def streams(self) -> StreamHub:
        """The WebSocket side."""
        ...


def control_routes(sim: Controlled) -> list[web.RouteDef]:
    """The control routes bound to ``sim``."""

    async def overview(request: web.Request) -> web.Response:
        return json_answer({"base_urls": sim.base_urls, "ws_urls": sim.ws_urls})

    async def add_fault(request: web.Request) -> web.Response:
        body = await _json_object(request)
        spec = dict(body)
        try:
            provider, kind = spec.pop("provider"), spec.pop("kind")
            fault = sim.set_fault(
                provider, kind, path=spec.pop("path", None), times=spec.pop("times", None), **spec
            )
        except (KeyError, TypeError, ValueError) as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        return json_answer(fault.describe(), status=201)

    async def list_faults(request: web.Request) -> web.Response:
        return json_answer([fault.describe() for fault in sim.faults(request.query.get("provider"))])

    async def clear_faults(request: web.Request) -> web.Response:
        return json_answer({"cleared": sim.clear_faults(request.query.get("provider"))})

    async def calls(request: web.Request) -> web.Response:
        return json_answer(sim.call_counts())

    async def requests(request: web.Request) -> web.Response:
        return json_answer([asdict(entry) for entry in sim.requests])

    async def prices(request: web.Request) -> web.Response:
        body = await _json_object(request)
        try:
            for symbol, usd in body.items():
                sim.set_price(symbol, float(usd))
        except (KeyError, TypeError, ValueError) as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        return json_answer({symbol.upper(): sim.price(symbol) for symbol in body})

    async def reset(request: web.Request) -> web.Response:
        sim.reset()
        return json_answer({"reset": True})

    async def streams(request: web.Request) -> web.Response:
        return json_answer(sim.streams.log.summary(sim.streams.providers))

    async def stream_fault(request: web.Request) -> web.Response:
        spec = dict(await _json_object(request))
        try:
            provider, kind = spec.pop("provider"), spec.pop("kind")
            affected = await sim.streams.fault(provider, kind, **spec)
        except (KeyError, TypeError, ValueError) as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        return json_answer({"affected": affected}, status=201)

    async def clear_stream_faults(request: web.Request) -> web.Response:
        try:
            cleared = sim.streams.clear_faults(request.query.get("provider"))
        except ValueError as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        return json_answer({"cleared": cleared})

    async def add_outage(request: web.Request) -> web.Response:
        body = await _json_object(request)
        try:
            sim.set_outage(body["provider"], body["start"], body["end"])
            return json_answer(sim.history(body["provider"]), status=201)
        except (KeyError, TypeError, ValueError) as error:
            raise web.HTTPBadRequest(text=str(error)) from None

    async def add_listing(request: web.Request) -> web.Response:
        body = await _json_object(request)
        try:
            sim.set_listing(body["provider"], body["market"], body["time"])
            return json_answer(sim.history(body["provider"]), status=201)
        except (KeyError, TypeError, ValueError) as error:
            raise web.HTTPBadRequest(text=str(error)) from None

    async def show_history(request: web.Request) -> web.Response:
        try:
            return json_answer(sim.history(request.query.get("provider")))
        except ValueError as error:
            raise web.HTTPBadRequest(text=str(error)) from None

    async def clear_history(request: web.Request) -> web.Response:
        try:
            sim.clear_history(request.query.get("provider"))
        except ValueError as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        return json_answer({"cleared": True})

    async def push(request: web.Request) -> web.Response:
        return json_answer({"frames": await sim.streams.push()})

    return [
        web.get(PREFIX, overview),
        web.get(f"{PREFIX}/streams", streams),
        web.post(f"{PREFIX}/streams/faults", stream_fault),
        web.delete(f"{PREFIX}/streams/faults", clear_stream_faults),
        web.post(f"{PREFIX}/streams/push", push),
        web.post(f"{PREFIX}/faults", add_fault),
        web.get(f"{PREFIX}/faults", list_faults),
        web.delete(f"{PREFIX}/faults", clear_faults),
        web.get(f"{PREFIX}/calls", calls),
        web.get(f"{PREFIX}/requests", requests),
        web.post(f"{PREFIX}/prices", prices),
        web.post(f"{PREFIX}/reset", reset),
        web.post(f"{PREFIX}/outages", add_outage),
        web.post(f"{PREFIX}/listings", add_listing),
        web.get(f"{PREFIX}/history", show_history),
        web.delete(f"{PREFIX}/history", clear_history),
    ]


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body
