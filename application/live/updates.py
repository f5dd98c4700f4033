"""What a subscriber receives: a snapshot, then updates, each one value shared by every
subscriber of its topic (edges render it once and keep the encoding in ``rendered``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from domain.candle import Candle
from domain.interval import Interval
from domain.quote import CombinedQuote
from domain.symbol import Symbol

UpdateType = Literal["snapshot", "update"]


@dataclass(frozen=True, slots=True)
class LiveCandle:
    """A candle as streamed to clients: ``closed`` is True exactly once, on its final values."""

    candle: Candle
    closed: bool


@dataclass(frozen=True, eq=False)
class CandleUpdate:
    """Candles of one market and interval: a ``snapshot`` (the most recent candles, up to 100,
    oldest first, the newest in progress) or an ``update`` (the candle that changed).

    ``event_time`` is the exchange's event time (epoch ms) of the newest change, None in a
    snapshot built without one. ``timestamp`` is when the service sent it (epoch ms). ``seq``
    grows by one per update of this topic in this process (SSE ``id:`` lines use it).
    ``rendered`` lets an edge keep its encoding (one per format) so a thousand subscribers
    cost one encoding.
    """

    type: UpdateType
    symbol: Symbol
    interval: Interval
    source: str
    candles: tuple[LiveCandle, ...]
    event_time: int | None
    timestamp: int
    seq: int
    rendered: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, eq=False)
class PriceUpdate:
    """Quotes: a ``snapshot`` of every watched asset, or an ``update`` of those that changed.

    Live prices overlay the combined REST board: ``price_usd``, ``change_24h``, ``volume_24h``
    and ``last_update`` come from the exchange ticker; ``name`` and ``market_cap`` stay as the
    board had them. Fields as in :class:`CandleUpdate`.
    """

    type: UpdateType
    quotes: tuple[CombinedQuote, ...]
    event_time: int | None
    timestamp: int
    seq: int
    rendered: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


LiveUpdate = CandleUpdate | PriceUpdate
