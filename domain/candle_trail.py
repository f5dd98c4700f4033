"""The candles a live stream delivered for one market and interval, and what it may accept.

A candle changes many times while it forms and becomes final once (``closed``). The rules
here keep a trail of the recent ones consistent whatever order the events arrive in: a closed
candle is kept once and never changed again, an older state never replaces a newer one, and a
repeat of the same state is no change.
"""

from __future__ import annotations

from collections import deque

from domain.candle import Candle

#: Closed candles a trail keeps: what a snapshot shows (100 with the one in progress).
TRAIL_DEPTH = 100


class CandleTrail:
    """Up to ``depth`` closed candles (oldest first) and the candle in progress, as streamed.

    ``source`` is the provider of the newest accepted event. Bounded: ``depth`` closed candles
    and one in progress, however long the stream runs.
    """

    __slots__ = ("_closed", "_open", "event_time", "source")

    def __init__(self, depth: int = TRAIL_DEPTH) -> None:
        self._closed: deque[Candle] = deque(maxlen=depth)
        self._open: Candle | None = None
        self.source: str | None = None
        #: The exchange's event time (epoch ms) of the newest accepted change.
        self.event_time: int | None = None

    def accept(self, candle: Candle, closed: bool) -> bool:
        """Take ``candle`` in (final when ``closed``) and tell whether anything changed.

        Refused: a candle at or before the newest closed one (it is final already, or a
        late echo); an in-progress candle older than the one in progress; the same state again.
        A closed candle ends the one in progress at or before its open time.
        """
        if self._closed and candle.timestamp <= self._closed[-1].timestamp:
            return False
        if closed:
            self._closed.append(candle)
            if self._open is not None and self._open.timestamp <= candle.timestamp:
                self._open = None
            return True
        if self._open is not None and (candle.timestamp < self._open.timestamp or candle == self._open):
            return False
        self._open = candle
        return True

    @property
    def closed(self) -> tuple[Candle, ...]:
        """The closed candles kept, oldest first."""
        return tuple(self._closed)

    @property
    def in_progress(self) -> Candle | None:
        """The candle forming now, if the stream has shown one since the last close."""
        return self._open

    @property
    def oldest(self) -> int | None:
        """Open time (epoch ms) of the oldest candle kept, None while the trail is empty."""
        if self._closed:
            return self._closed[0].timestamp
        return None if self._open is None else self._open.timestamp

    def __len__(self) -> int:
        return len(self._closed) + (self._open is not None)
