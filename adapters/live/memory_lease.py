"""The in-process stream lease: one replica, always the holder."""

from __future__ import annotations


class MemoryStreamLease:
    """Implements ``StreamLease`` for a single process: it always holds the streams."""

    async def hold(self, ttl: float) -> bool:
        """Always held."""
        return True

    async def release(self) -> None:
        """Nothing to give up to: there is no other replica."""
