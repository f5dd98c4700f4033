"""A shard: the share of a provider's topics one connection carries (exchanges cap the
streams per connection: Binance at 1024)."""

from __future__ import annotations

import asyncio


class Shard:
    """``topics`` are assigned by the provider (what should be held); ``subscribed`` are
    those the current connection has had acknowledged. ``changed`` wakes the connection's
    control loop when the assignment changes. ``opens`` counts connections opened for it."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.topics: set[str] = set()
        self.subscribed: set[str] = set()
        self.changed = asyncio.Event()
        self.opens = 0
        self.task: asyncio.Task[None] | None = None
