"""What the simulator's WebSocket side saw: connections per provider, their subscriptions,
and every frame a client sent (control messages, pings and pongs)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ClientFrame:
    """One frame a client sent: ``kind`` is ``text`` (``payload`` parsed JSON, or the raw text
    when it is not JSON), ``ping``, ``pong`` or ``binary``; ``at`` is real monotonic seconds."""

    connection: int
    at: float
    kind: str
    payload: Any


@dataclass
class StreamConnection:
    """One WebSocket connection: ``subscriptions`` are the provider's own names of what it
    carries now (``btcusdt@kline_1m``, ``ohlc:BTC/USD:1``, ``ticker:BTC/USD``)."""

    id: int
    provider: str
    opened_at: float
    closed_at: float | None = None
    subscriptions: dict[str, None] = field(default_factory=dict)
    frames: list[ClientFrame] = field(default_factory=list)

    @property
    def open(self) -> bool:
        """True until the connection closes."""
        return self.closed_at is None

    def describe(self) -> dict[str, Any]:
        """A JSON-ready view, as the control API shows it."""
        return {
            "id": self.id,
            "provider": self.provider,
            "open": self.open,
            "subscriptions": list(self.subscriptions),
            "frames": len(self.frames),
        }


class StreamLog:
    """Every WebSocket connection one simulator accepted, oldest first."""

    def __init__(self) -> None:
        self._connections: list[StreamConnection] = []
        self._refusals: list[tuple[str, float]] = []
        self._next_id = 1

    def refused(self, provider: str) -> None:
        """Record a handshake a ``refuse`` fault turned away."""
        self._refusals.append((provider, time.monotonic()))

    def refusals(self, provider: str) -> list[float]:
        """When handshakes of ``provider`` were refused (real monotonic seconds), in order."""
        return [at for name, at in self._refusals if name == provider]

    def opened(self, provider: str) -> StreamConnection:
        """Record a new connection of ``provider``."""
        connection = StreamConnection(self._next_id, provider, time.monotonic())
        self._next_id += 1
        self._connections.append(connection)
        return connection

    def connections(self, provider: str | None = None) -> list[StreamConnection]:
        """The connections of ``provider`` (all when None), oldest first, closed ones included."""
        return [c for c in self._connections if provider is None or c.provider == provider]

    def opened_count(self, provider: str) -> int:
        """Connections ``provider`` accepted since the last ``clear`` (which keeps open ones)."""
        return len(self.connections(provider))

    def open_count(self, provider: str) -> int:
        """Connections of ``provider`` open now."""
        return sum(1 for c in self.connections(provider) if c.open)

    def subscriptions(self, provider: str) -> list[str]:
        """What the open connections of ``provider`` carry, one entry per connection and
        subscription (a stream held twice is listed twice), sorted."""
        return sorted(name for c in self.connections(provider) if c.open for name in c.subscriptions)

    def frames(self, provider: str, kind: str | None = None) -> list[ClientFrame]:
        """The frames clients of ``provider`` sent (of ``kind`` only when given), in order."""
        frames = [
            frame
            for c in self.connections(provider)
            for frame in c.frames
            if kind is None or frame.kind == kind
        ]
        return sorted(frames, key=lambda frame: frame.at)

    def summary(self, providers: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        """Per provider: connections opened and open now, subscriptions, frames received."""
        return {
            provider: {
                "opened": self.opened_count(provider),
                "open": self.open_count(provider),
                "refused": len(self.refusals(provider)),
                "subscriptions": self.subscriptions(provider),
                "frames": len(self.frames(provider)),
            }
            for provider in providers
        }

    def clear(self) -> None:
        """Forget closed connections, refusals and what every connection received (open ones
        stay)."""
        self._refusals.clear()
        self._connections = [c for c in self._connections if c.open]
        for connection in self._connections:
            connection.frames.clear()
