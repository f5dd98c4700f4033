"""Topics: one stream of updates (the candles of one market and interval, or the prices) and
the watches that receive it."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from application.live.mailbox import Mailbox
from application.live.updates import CandleUpdate, LiveUpdate, PriceUpdate


class TopicWatch:
    """One topic watched into a mailbox: the ``Watch`` of feed.py.

    ``bases`` narrows a prices watch to its assets (None: every update of the topic).
    """

    __slots__ = ("_on_stop", "bases", "mailbox", "snapshot")

    def __init__(
        self,
        snapshot: CandleUpdate | PriceUpdate,
        mailbox: Mailbox,
        on_stop: Callable[[TopicWatch], None],
        bases: frozenset[str] | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.mailbox = mailbox
        self.bases = bases
        self._on_stop: Callable[[TopicWatch], None] | None = on_stop

    def stop(self) -> None:
        """Stop the updates of this topic to the mailbox (idempotent)."""
        on_stop, self._on_stop = self._on_stop, None
        if on_stop is not None:
            self.mailbox.watches.discard(self)
            on_stop(self)

    @property
    def stopped(self) -> bool:
        """Whether the watch was stopped."""
        return self._on_stop is None


class Topic:
    """The watches of one topic and the sequence number of its updates (``seq`` grows by one
    per update; a snapshot carries the ``seq`` of the last update before it)."""

    __slots__ = ("seq", "watches")

    def __init__(self) -> None:
        self.watches: dict[TopicWatch, None] = {}  # insertion-ordered set
        self.seq = 0

    def next_seq(self) -> int:
        """The sequence number of a new update."""
        self.seq += 1
        return self.seq

    def offer(self, key: Hashable, update: LiveUpdate, final: bool = False, base: str | None = None) -> int:
        """Offer ``update`` (conflated under ``key``) to every watch, or to those whose assets
        include ``base``; returns how many were offered it. Never awaits."""
        offered = 0
        # A copy: a mailbox over its limit is dropped on the spot and stops its watches.
        for watch in tuple(self.watches):
            if base is None or watch.bases is None or base in watch.bases:
                watch.mailbox.offer(key, update, final)
                offered += 1
        return offered
