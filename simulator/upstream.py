"""What every simulated provider has in common: routes under a prefix, gatekeeping,
its own error forms, and access to the per-request fault effects."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from aiohttp import web

from .faults import NO_EFFECTS, Effects, Fault
from .market import Market

#: Where the server leaves the fault effects for the handlers of one request.
EFFECTS = web.RequestKey("effects", Effects)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Rejection(Exception):
    """Raised by a handler to answer with ``response`` (a provider's error form)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def json_answer(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Compact JSON, as the real APIs send it."""
    return web.Response(
        text=json.dumps(data, separators=(",", ":")),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def effects_of(request: web.Request) -> Effects:
    """The fault effects (skew...) that apply to ``request``."""
    effects: Effects = request.get(EFFECTS, NO_EFFECTS)
    return effects


class Upstream:
    """One simulated provider.

    Subclasses set ``name`` (the provider id), ``prefix`` (its mount point on the
    simulator), ``host`` (the real host, used in error pages) and ``fault_kinds``, and
    implement ``routes`` and ``answer``. The hooks run in this order for a request:
    ``before`` (bookkeeping, always), fault effects, ``admit`` (the real provider's own
    refusals, e.g. a missing key), the handler, then ``finish`` on every answer in the
    provider's own form.
    """

    name: ClassVar[str]
    prefix: ClassVar[str]
    host: ClassVar[str]
    fault_kinds: ClassVar[frozenset[str]]

    def __init__(self, market: Market) -> None:
        self.market = market

    def routes(self) -> list[web.RouteDef]:
        """The provider's GET routes, with absolute paths."""
        raise NotImplementedError

    def answer(self, fault: Fault, request: web.Request, path: str) -> web.Response:
        """The provider's own answer for a replacing ``fault`` (rate limit, 5xx...)."""
        raise NotImplementedError

    def before(self, request: web.Request, path: str) -> None:
        """Bookkeeping for every request (e.g. Binance request weight)."""

    def admit(self, request: web.Request, path: str) -> web.Response | None:
        """A refusal the real provider would send, or None to go on."""
        return None

    def finish(self, request: web.Request, response: web.StreamResponse) -> None:
        """Decorate an answer (e.g. Binance's used-weight header)."""

    def get(self, path: str, handler: Handler) -> web.RouteDef:
        """A GET route under the prefix whose handler may raise ``Rejection``."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except Rejection as rejection:
                return rejection.response

        return web.get(self.prefix + path, guarded)
