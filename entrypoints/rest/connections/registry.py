"""The open client connections of one HTTP server, counted per client address.

One registry per REST server (one per process in production), shared by everything that
holds a connection on that server: plain requests now, WebSocket and SSE streams later
(they are upgraded or long-running requests on the same connections, so they are counted
here already). Handlers reach it through ``CONNECTIONS`` on the app.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Admission(enum.Enum):
    """What becomes of a new connection."""

    SERVE = "serve"  # served like any other
    RESERVE_ONLY = "reserve_only"  # in the descriptor reserve: health and metrics only, then closed
    CLIENT_CAP = "client_cap"  # refused: the client holds MAX_CONNECTIONS_PER_CLIENT already
    RESERVE_FULL = "reserve_full"  # refused: even the reserve for health and metrics is taken

    @property
    def refused(self) -> bool:
        """Whether the connection is closed at once, unanswered."""
        return self in (Admission.CLIENT_CAP, Admission.RESERVE_FULL)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """How many connections are served.

    ``per_client``: open connections one client address may hold. ``served``: open
    connections served normally, all clients together (the file limit less the reserve).
    ``with_reserve``: open connections at all; those past ``served`` answer only health and
    metrics. ``None`` for no limit (no file limit known).
    """

    per_client: int
    served: int | None = None
    with_reserve: int | None = None

    def __post_init__(self) -> None:
        if self.per_client < 1:
            raise ValueError("per_client must be at least 1")
        if (self.served is None) != (self.with_reserve is None):
            raise ValueError("served and with_reserve are both set or both None")
        if self.served is not None and not 0 < self.served <= self.with_reserve:  # type: ignore[operator]
            raise ValueError("need 0 < served <= with_reserve")


class ConnectionRegistry:
    """Counts open connections per client and decides, per new connection, whether to serve it.

    ``admit`` on every accepted connection and ``release`` when an admitted one closes
    (refused ones hold nothing). Plain counting, no I/O: what to do with the answer (close,
    log, count in metrics) is the caller's.
    """

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self._per_client: dict[str, int] = {}
        self._open = 0
        self._in_reserve = False

    @property
    def open(self) -> int:
        """Connections admitted and not yet released."""
        return self._open

    @property
    def in_reserve(self) -> bool:
        """Whether connections past ``served`` are open now (read it before ``admit`` to
        tell the first connection into the reserve)."""
        return self._in_reserve

    def held_by(self, client: str) -> int:
        """Open connections of ``client``."""
        return self._per_client.get(client, 0)

    def admit(self, client: str) -> Admission:
        """Admit a new connection of ``client`` (counted unless refused)."""
        limits = self.limits
        held = self._per_client.get(client, 0)
        if held >= limits.per_client:
            return Admission.CLIENT_CAP
        admission = Admission.SERVE
        if limits.served is not None and self._open >= limits.served:
            if self._open >= limits.with_reserve:  # type: ignore[operator]
                return Admission.RESERVE_FULL
            admission = Admission.RESERVE_ONLY
            self._in_reserve = True
        self._per_client[client] = held + 1
        self._open += 1
        return admission

    def release(self, client: str) -> None:
        """An admitted connection of ``client`` closed."""
        held = self._per_client.get(client, 0)
        if held <= 1:
            self._per_client.pop(client, None)
        else:
            self._per_client[client] = held - 1
        if held:
            self._open -= 1
        if self._in_reserve and self.limits.served is not None and self._open <= self.limits.served:
            self._in_reserve = False
