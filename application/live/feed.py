"""What the edges (WebSocket, SSE, gRPC) ask of the live data: the ``LiveFeed`` interface.

An edge makes one :class:`Mailbox`-like inbox per client connection (``application.live.mailbox``)
and watches topics into it; it then awaits ``inbox.get()`` and renders each update. Ingestion
never waits for a subscriber: a slow one is conflated (only the newest state per key is kept)
and dropped (``SlowSubscriber``) once it keeps falling behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from application.live.updates import CandleUpdate, LiveUpdate, PriceUpdate


class SlowSubscriber(Exception):
    """The subscriber fell too far behind and was dropped; ``reason`` is the close reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FeedClosed(Exception):
    """The feed is shutting down (or the inbox was closed): no more updates will come."""


class Inbox(Protocol):
    """One subscriber's bounded queue of updates."""

    async def get(self) -> LiveUpdate:
        """The next update, waiting for one. Raises ``SlowSubscriber`` or ``FeedClosed``."""
        ...

    def close(self) -> None:
        """Stop every watch of this inbox and release it (idempotent)."""
        ...


class Watch(Protocol):
    """One topic watched into an inbox."""

    @property
    def snapshot(self) -> CandleUpdate | PriceUpdate:
        """The state when the watch started (already rendered-ready; not put in the inbox)."""
        ...

    def stop(self) -> None:
        """Stop the updates of this topic to the inbox (idempotent)."""
        ...


class LiveFeed(Protocol):
    """Live candles and prices for subscribers."""

    def inbox(self) -> Inbox:
        """A new, empty inbox for one client connection."""
        ...

    async def watch_candles(self, inbox: Inbox, symbol: str | None, interval: str | None) -> Watch:
        """Validate (``InvalidSymbol``/``InvalidInterval``/``InvalidParameter``, before any
        upstream call), open the upstream stream if nobody watched it yet, and return the watch
        with its snapshot; updates after the snapshot go to ``inbox``. Raises
        ``AllProvidersFailed`` when no snapshot can be had, ``FeatureDisabled`` when streams
        are off."""
        ...

    async def watch_prices(self, inbox: Inbox, symbols: Sequence[str] | str | None) -> Watch:
        """The same for the prices of ``symbols`` (a list, a comma string, or None for every
        supported asset)."""
        ...
