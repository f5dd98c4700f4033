"""``Mailbox``: one subscriber's bounded, conflating queue of updates (the ``Inbox`` of feed.py).

Updates wait under a key: a candles update under its market, interval and candle open time,
a prices update under its asset. A newer update for a key that is still waiting takes the
waiting one's place (the subscriber sees the latest state, in the order the keys first came),
except that a closed candle is never replaced by anything but itself: the final values of a
candle are never lost to conflation. Closed candles of one market that arrive back to back
(a gap fill) wait as one update of up to ``MAX_JOINED`` candles. Offering never blocks and
never awaits; when more keys wait than ``limit`` the subscriber is dropped: its ``get()``
raises ``SlowSubscriber``. A mailbox thus holds at most ``limit`` updates.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Protocol

from application.live.feed import FeedClosed, SlowSubscriber
from application.live.updates import CandleUpdate, LiveUpdate
from domain.ports import Telemetry

#: Waiting updates a subscriber may have before it is dropped (STREAM_QUEUE_LIMIT).
DEFAULT_QUEUE_LIMIT = 256
#: Most closed candles joined into one waiting update.
MAX_JOINED = 1000


class Stoppable(Protocol):
    """A watch feeding a mailbox."""

    def stop(self) -> None:
        """Stop feeding it (idempotent)."""
        ...


class Mailbox:
    """A subscriber's updates, at most ``limit`` keys of them waiting.

    ``on_end`` is told once when the mailbox ends (closed, dropped or shut down), so the feed
    stops its watches and forgets it.
    """

    __slots__ = ("_failure", "_final", "_limit", "_on_end", "_pending", "_telemetry", "_waiter", "watches")

    def __init__(self, limit: int, on_end: Callable[[Mailbox], None], telemetry: Telemetry) -> None:
        self._limit = limit
        self._pending: OrderedDict[Hashable, LiveUpdate] = OrderedDict()
        self._final: set[Hashable] = set()  # waiting keys that hold a closed candle
        self._waiter: asyncio.Future[None] | None = None
        self._failure: Exception | None = None
        self._on_end = on_end
        self._telemetry = telemetry
        #: The watches feeding this mailbox (stopped when it ends).
        self.watches: set[Stoppable] = set()

    def offer(self, key: Hashable, update: LiveUpdate, final: bool = False) -> None:
        """Queue ``update`` under ``key`` (``final``: it carries a closed candle). Returns at once."""
        if self._failure is not None:
            return
        pending = self._pending
        if key in pending:
            if key in self._final and not final:
                return  # a closed candle stays; nothing newer about it can be news
        elif final and self._joined_to_last(key, update):
            return
        elif len(pending) >= self._limit:
            self._end(SlowSubscriber(f"too slow: more than {self._limit} updates waiting"))
            self._telemetry.slow_subscriber_dropped()
            return
        pending[key] = update
        if final:
            self._final.add(key)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _joined_to_last(self, key: Hashable, update: LiveUpdate) -> bool:
        """Join a closed candle to the closed candles of the same market and interval waiting
        last, as one update: a burst of closes (a gap fill after a long outage) then takes one
        place in the queue, not one per candle, and drops no subscriber that keeps reading."""
        if not self._pending or not isinstance(update, CandleUpdate):
            return False
        last_key = next(reversed(self._pending))
        last = self._pending[last_key]
        if (
            last_key not in self._final
            or not isinstance(last, CandleUpdate)
            or last.type != "update"
            or (last.symbol, last.interval) != (update.symbol, update.interval)
            or len(last.candles) + len(update.candles) > MAX_JOINED
        ):
            return False
        joined = replace(
            update, candles=last.candles + update.candles, rendered={}
        )  # this subscriber's own update: the shared one's encoding does not fit it
        del self._pending[last_key]
        self._final.discard(last_key)
        self._pending[key] = joined
        self._final.add(key)
        return True

    async def get(self) -> LiveUpdate:
        """The next update, waiting for one. Raises ``SlowSubscriber`` once dropped and
        ``FeedClosed`` once closed (whatever was still waiting is discarded either way)."""
        while True:
            if self._failure is not None:
                raise self._failure.with_traceback(None)
            if self._pending:
                key, update = self._pending.popitem(last=False)
                self._final.discard(key)
                self._telemetry.update_delivered("candles" if isinstance(update, CandleUpdate) else "prices")
                return update
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def close(self) -> None:
        """Stop every watch of this mailbox and release it (idempotent)."""
        self._end(FeedClosed("the inbox was closed"))

    def shut(self, reason: str) -> None:
        """End the mailbox because the feed stops: ``get()`` raises ``FeedClosed(reason)``."""
        self._end(FeedClosed(reason))

    @property
    def pending(self) -> int:
        """Keys waiting."""
        return len(self._pending)

    @property
    def ended(self) -> bool:
        """Whether the mailbox was closed, dropped or shut."""
        return self._failure is not None

    def _end(self, failure: Exception) -> None:
        if self._failure is not None:
            return
        self._failure = failure
        self._pending.clear()
        self._final.clear()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self._on_end(self)
