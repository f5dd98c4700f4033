"""Live updates as the bytes clients receive: each update is encoded once, whatever the number
of subscribers, and the encoding kept on the update (``rendered``).

A WebSocket frame is the JSON object; an SSE event is the same JSON object on a ``data:`` line
after its ``id:`` and ``event:`` lines. In sandbox mode every object ends with
``"sandbox": true``, as every other JSON answer does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from application.live.live_indicators import IndicatorUpdate
from application.live.updates import CandleUpdate, LiveUpdate, PriceUpdate
from entrypoints.rest import rendering
from entrypoints.rest.live import schemas
from entrypoints.rest.live.sse_resume import candle_event_id
from entrypoints.rest.sandbox import marked


def candles_body(update: CandleUpdate) -> dict[str, Any]:
    """The JSON object of a candles snapshot or update."""
    message = schemas.CandlesMessage(
        type=update.type,
        symbol=update.symbol.pair,
        interval=update.interval.name,
        source=update.source,
        data=[
            schemas.LiveCandle(timestamp=c.timestamp, open=c.open, high=c.high, low=c.low, close=c.close,
                               volume=c.volume, closed=live.closed)
            for live in update.candles
            for c in (live.candle,)
        ],
        timestamp=update.timestamp,
        event_time=update.event_time,
    )  # fmt: skip
    return schemas.without_absent(message.body(), "eventTime")


def prices_body(update: PriceUpdate) -> dict[str, Any]:
    """The JSON object of a prices snapshot or update (quotes as GET /api/prices has them)."""
    message = schemas.PricesMessage(
        type=update.type,
        data=[rendering.quote(q) for q in update.quotes],
        timestamp=update.timestamp,
        event_time=update.event_time,
    )
    return schemas.without_absent(message.body(), "eventTime")


def indicators_body(update: IndicatorUpdate) -> dict[str, Any]:
    """The JSON object of an indicators snapshot or update (rows as GET /api/indicators has them)."""
    table = update.table
    message = schemas.IndicatorsMessage(
        type=update.type,
        symbol=table.symbol.pair,
        interval=table.interval.name,
        indicators=update.indicators,
        source=table.source,
        warmup=table.warmup,
        data=[{"timestamp": row.timestamp, **row.values} for row in table.rows],
        live=update.live,
        timestamp=update.timestamp,
        event_time=update.event_time,
    )
    return schemas.without_absent(message.body(), "eventTime")


def body_of(update: LiveUpdate) -> dict[str, Any]:
    """The JSON object of any update."""
    return candles_body(update) if isinstance(update, CandleUpdate) else prices_body(update)


def event_id(update: LiveUpdate) -> str | None:
    """The SSE ``id:`` of ``update``: for candles the newest candle's open time and state (see
    ``sse_resume``), for prices the update's sequence number; None for an empty candles message."""
    if isinstance(update, CandleUpdate):
        if not update.candles:
            return None
        newest = update.candles[-1]
        return candle_event_id(newest.candle.timestamp, newest.closed)
    return str(update.seq)


class LiveMessages:
    """Encodes updates once each (``update.rendered``), and the edge's own messages."""

    def __init__(self, sandbox: bool = False) -> None:
        self._sandbox = sandbox
        self._json_key = "json+sandbox" if sandbox else "json"
        self._sse_key = "sse+sandbox" if sandbox else "sse"

    def encode(self, body: dict[str, Any]) -> bytes:
        """A JSON object as sent (marked in sandbox mode)."""
        data = orjson.dumps(body)
        return marked(data) if self._sandbox else data

    def json(self, update: LiveUpdate) -> bytes:
        """The update's JSON object: encoded at the first call, kept for every later one. A
        snapshot is made for one subscriber: its encoding is not kept (the watch holds the
        snapshot for as long as the subscription lasts)."""
        return _kept(update, self._json_key, lambda: self.encode(body_of(update)))

    def indicators(self, update: IndicatorUpdate) -> bytes:
        """An indicators message, kept like :meth:`json` (subscribers of one row share it)."""
        return _kept(update, self._json_key, lambda: self.encode(indicators_body(update)))

    def sse(self, update: LiveUpdate) -> bytes:
        """The update as one SSE event (``id:``, ``event:``, ``data:``), kept like :meth:`json`."""
        return _kept(update, self._sse_key, lambda: sse_event(update.type, self.json(update), event_id(update)))


def _kept(update: LiveUpdate | IndicatorUpdate, key: str, encode: Callable[[], bytes]) -> bytes:
    """``update``'s encoding under ``key``: made once and kept on it, except for a snapshot."""
    if update.type == "snapshot":
        return encode()
    data: bytes | None = update.rendered.get(key)
    if data is None:
        data = update.rendered[key] = encode()
    return data


def sse_event(event: str, data: bytes, event_id: str | None = None) -> bytes:
    """One SSE event; ``data`` is one line of JSON (orjson writes no newlines)."""
    head = f"id: {event_id}\nevent: {event}\n" if event_id is not None else f"event: {event}\n"
    return head.encode() + b"data: " + data + b"\n\n"
