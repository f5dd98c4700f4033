"""Between the fan-out and the upstream side: which streams this replica's subscribers watch,
and how the upstream connections are doing."""

from __future__ import annotations

from typing import Protocol

from domain.live import StreamKey, StreamStatus


class StreamInterest(Protocol):
    """Counts this replica's watchers per stream; the upstream side opens what is watched (on
    whichever replica holds the streams) and closes a stream some time after its last watcher
    left (STREAM_IDLE_TIMEOUT), so a client that reconnects at once does not cost a reopen."""

    def watch(self, key: StreamKey) -> None:
        """One more watcher of ``key`` (returns at once)."""
        ...

    def unwatch(self, key: StreamKey) -> None:
        """One watcher of ``key`` fewer (returns at once)."""
        ...


class StreamReport(Protocol):
    """The upstream stream providers' state, for health and for "is this market live"."""

    def statuses(self) -> tuple[StreamStatus, ...]:
        """One status per provider of STREAM_PROVIDERS, in that order (on a replica that does
        not hold the streams: as the holder last published them)."""
        ...
