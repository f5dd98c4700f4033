"""The times a client gives for a candle range: epoch ms or ISO 8601 UTC, checked before any call."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from domain.client_input import quoted
from domain.errors import InvalidParameter

MAX_RANGE_CANDLES = 10_000  # per page of a range
DEFAULT_RANGE_CANDLES = 1000
_EPOCH_MS = re.compile(r"[0-9]{1,15}")
_LATEST_MS = 253_402_300_800_000  # 10000-01-01: past it no calendar date exists


def parse_instant(raw: str, field: str) -> int:
    """Epoch milliseconds from ``raw``: whole epoch ms (``1717200000000``) or ISO 8601 in UTC
    (``2024-01-01T00:00:00Z``, ``2024-01-01``; an explicit offset is converted, no offset means
    UTC). Raises ``InvalidParameter`` naming ``field``."""
    text = raw.strip()
    if _EPOCH_MS.fullmatch(text):
        value = int(text)
        if value >= _LATEST_MS:
            raise InvalidParameter(f"{field} is past the year 9999: {quoted(raw)}", field=field)
        return value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidParameter(
            f"{field} must be epoch milliseconds or an ISO 8601 UTC time, got {quoted(raw)}", field=field
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    value = int(moment.timestamp() * 1000)
    if value < 0:
        raise InvalidParameter(f"{field} is before 1970: {quoted(raw)}", field=field)
    return value


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Open times ``[start_ms, end_ms)`` a client asked for; ``end_ms`` None means up to now,
    the candle in progress included."""

    start_ms: int
    end_ms: int | None

    @classmethod
    def of(cls, start: str | None, end: str | None, now_ms: int) -> TimeRange:
        """The range ``start``/``end`` name at ``now_ms``, or ``InvalidParameter``: a missing or
        unparseable time, a start in the future, a start not before the end."""
        if start is None or start.strip() == "":
            raise InvalidParameter("start is required for a range", field="start")
        start_ms = parse_instant(start, "start")
        end_ms = None if end is None or end.strip() == "" else parse_instant(end, "end")
        if start_ms > now_ms:
            raise InvalidParameter(f"start is in the future: {quoted(start)}", field="start")
        if end_ms is not None and start_ms >= end_ms:
            raise InvalidParameter(f"start must be before end, got start={start_ms} end={end_ms}", field="start")
        return cls(start_ms, end_ms)

    def end_at(self, now_ms: int) -> int:
        """The exclusive end of the range at ``now_ms``: ``end_ms``, or just past now."""
        return self.end_ms if self.end_ms is not None else now_ms + 1


def check_range_limit(limit: int | None) -> int:
    """The number of candles one page of a range may hold: ``limit`` (1..10000) or 1000."""
    if limit is None:
        return DEFAULT_RANGE_CANDLES
    if not 1 <= limit <= MAX_RANGE_CANDLES:
        raise InvalidParameter(
            f"limit must be between 1 and {MAX_RANGE_CANDLES} for a range, got {limit}", field="limit"
        )
    return limit
