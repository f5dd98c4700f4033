"""The upstream stream providers' state, as this replica knows it."""

from __future__ import annotations

from collections.abc import Sequence

from domain.live import StreamStatus
from domain.ports import MarketStream


class StreamStatuses:
    """Implements ``StreamReport``: while this replica holds the upstream streams, the
    statuses of its own MarketStreams; otherwise the ones the holder last published on the
    bus (a provider not heard of yet: this replica's own, idle, adapter's status)."""

    def __init__(self, streams: Sequence[MarketStream]) -> None:
        self._streams = tuple(streams)
        self._heard: dict[str, StreamStatus] = {}
        self.holding = False

    def statuses(self) -> tuple[StreamStatus, ...]:
        """One status per provider of STREAM_PROVIDERS, in that order."""
        if self.holding:
            return self.local()
        return tuple(self._heard.get(stream.name) or stream.status() for stream in self._streams)

    def local(self) -> tuple[StreamStatus, ...]:
        """The statuses of this replica's own MarketStreams."""
        return tuple(stream.status() for stream in self._streams)

    def heard(self, status: StreamStatus) -> None:
        """A status published on the bus (by whichever replica holds the streams)."""
        self._heard[status.provider] = status
