"""What an exchange's frames mean, once read: the vocabulary between an exchange's dialect
(``binance.py``, ``kraken.py``) and the connection machinery that acts on it.

Data frames name the exchange's own topic (``btcusdt@kline_1m``, ``ohlc:BTC/USD:1``); the
machinery turns them into domain events for every wanted key that maps to that topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.candle import Candle
from domain.live import StreamKey


@dataclass(frozen=True, slots=True)
class Ack:
    """The exchange's answer to control message ``request_id``: for the whole message
    (``symbol`` None, as Binance answers) or for one of its symbols (Kraken)."""

    request_id: int | None
    ok: bool
    symbol: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CandleFrame:
    """The candle of ``topic`` as of ``event_time`` (epoch ms); ``closed`` on its final values."""

    topic: str
    candle: Candle
    closed: bool
    event_time: int


@dataclass(frozen=True, slots=True)
class TickerFrame:
    """The ticker of ``topic``; figures the exchange does not send are None."""

    topic: str
    last: float
    open_24h: float | None
    high_24h: float | None
    low_24h: float | None
    volume_base: float | None
    volume_quote: float | None
    event_time: int


@dataclass(frozen=True, slots=True)
class Rotate:
    """The exchange asks for a new connection (``serverShutdown``, maintenance)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Notice:
    """A frame that only says the connection is alive (heartbeat, pong, status)."""

    kind: str


Frame = Ack | CandleFrame | TickerFrame | Rotate | Notice


class MalformedFrame(Exception):
    """A frame that does not parse or does not fit the exchange's format: counted, logged
    and skipped, never turned into data."""


@dataclass(frozen=True, slots=True)
class ControlMessage:
    """A message to send (JSON-ready), its id and the topics it asks about."""

    request_id: int
    payload: dict[str, object]
    topics: frozenset[str]


class FrameReader(Protocol):
    """Reads the frames of one connection (it may keep state between them: Kraken's candles
    close when the next one starts)."""

    def read(self, text: str) -> list[Frame]:
        """The frames one text message carries. Raises ``MalformedFrame``."""
        ...


class Dialect(Protocol):
    """One exchange's WebSocket protocol: topics, control messages and frame reading."""

    provider: str
    url: str
    max_topics: int

    def topic(self, key: StreamKey) -> str | None:
        """The exchange's topic for ``key``, or None when it cannot stream it."""
        ...

    def topic_symbol(self, topic: str) -> str:
        """The exchange's symbol in ``topic`` (to match per-symbol acknowledgements)."""
        ...

    def subscribe(self, topics: Sequence[str], first_id: int) -> list[ControlMessage]:
        """Batched messages subscribing ``topics``; ids count up from ``first_id``."""
        ...

    def unsubscribe(self, topics: Sequence[str], first_id: int) -> list[ControlMessage]:
        """Batched messages unsubscribing ``topics``."""
        ...

    def reader(self) -> FrameReader:
        """A reader for a new connection."""
        ...
