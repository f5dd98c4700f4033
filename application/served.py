"""What a use case answers with: a value as served, and what it was served for."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True, slots=True)
class Served(Generic[T]):
    """A value as served to a client: ``stale`` when it is past its TTL and was served only
    because every provider failed; ``fetched_at`` is when it came from upstream (epoch s).

    ``request`` is what was asked, normalised: the cache key the entry was read under, its
    kind first (``ohlcv:BTCUSDT:1h``), then whatever a use case cut the entry down by (see
    :meth:`narrowed`). ``fetched_at`` is the cache entry's write stamp, which the cache never
    repeats (see ``Cache.set``): the same request, ``fetched_at`` and ``stale`` always mean the
    same answer, so an edge may keep an answer's encoding by them (``entrypoints.answer_memo``).
    It says where the value came from rather than what it is, so equality leaves it out;
    None means nobody said, and such an answer is never kept.

    ``live`` is True when a live stream's candles were joined into the cached value (its newest
    candle is the one the stream shows now); ``live_version`` then names the live state joined
    in. That state changes while the cache entry stays the same, and the version is never
    reused in a process, so an answer kept by these fields cannot outlive the live candle it
    showed.
    """

    value: T
    stale: bool
    fetched_at: float
    request: Hashable | None = field(default=None, compare=False)
    live: bool = False
    live_version: int | None = field(default=None, compare=False)

    def narrowed(self, value: U, by: Hashable) -> Served[U]:
        """This answer cut down to ``value`` by ``by`` (a limit, a symbol selection...): the
        same entry and staleness, with ``by`` added to the request. A use case serving less
        than the entry it read goes through here, so the request names every cut."""
        request = None if self.request is None else (self.request, by)  # never keep what nobody named
        return Served(value, self.stale, self.fetched_at, request, self.live, self.live_version)
