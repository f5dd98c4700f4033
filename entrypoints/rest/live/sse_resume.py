"""Resuming an SSE candles stream from ``Last-Event-ID`` without repeating what the client has.

Each candles event's ``id:`` names the newest candle it carried and its state:
``<open time in ms>-closed`` for a final candle, ``<open time in ms>-live`` for one in
progress. A reconnecting EventSource sends the last id it saw; the server's new snapshot then
tells what the client missed: every candle after that one, and that candle again if the client
saw it in progress (it has moved on, or closed, since). Those are sent as one ``update`` event;
nothing at all when the client missed nothing. Only when the snapshot cannot bridge the gap
(the id is older than its oldest candle, newer than its newest, or not a candles id) is the
whole snapshot sent again, as ``snapshot``, which a client takes as "replace what you have".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from application.live.updates import LiveCandle

_CANDLE_ID = re.compile(r"([0-9]{1,15})-(closed|live)")


def candle_event_id(open_ms: int, closed: bool) -> str:
    """The SSE id of an event whose newest candle opened at ``open_ms``."""
    return f"{open_ms}-{'closed' if closed else 'live'}"


def parse_candle_event_id(raw: str | None) -> tuple[int, bool] | None:
    """``(open_ms, closed)`` of a candles event id, or None for anything else."""
    if raw is None:
        return None
    match = _CANDLE_ID.fullmatch(raw.strip())
    if match is None:
        return None
    return int(match.group(1)), match.group(2) == "closed"


def missed_candles(snapshot: Sequence[LiveCandle], last_event_id: str | None) -> tuple[LiveCandle, ...] | None:
    """The candles of ``snapshot`` (oldest first) a client whose last event was
    ``last_event_id`` has not seen in their current state, or None when the snapshot must be
    sent whole (no usable id, or a gap the snapshot cannot bridge)."""
    seen = parse_candle_event_id(last_event_id)
    if seen is None or not snapshot:
        return None
    open_ms, closed = seen
    if open_ms < snapshot[0].candle.timestamp or open_ms > snapshot[-1].candle.timestamp:
        return None
    return tuple(
        live for live in snapshot
        if live.candle.timestamp > open_ms or (live.candle.timestamp == open_ms and not closed)
    )  # fmt: skip
