"""Latency recording for the Python load generators: a log-bucketed histogram (1% wide
buckets) that load processes fill and the suite merges, and percentiles of plain samples."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_GROWTH = 1.01  # each bucket is 1% wider than the previous: percentiles within 1%
_LOG_GROWTH = math.log(_GROWTH)


@dataclass
class Histogram:
    """Counts of latencies (seconds) in buckets of 1% width, mergeable across processes."""

    buckets: dict[int, int] = field(default_factory=dict)
    count: int = 0

    def add(self, seconds: float) -> None:
        """Record one latency."""
        micros = max(seconds * 1e6, 1.0)
        index = int(math.log(micros) / _LOG_GROWTH)
        self.buckets[index] = self.buckets.get(index, 0) + 1
        self.count += 1

    def merge(self, other: Histogram) -> None:
        """Add ``other``'s counts to this one."""
        for index, hits in other.buckets.items():
            self.buckets[index] = self.buckets.get(index, 0) + hits
        self.count += other.count

    def percentile(self, fraction: float) -> float | None:
        """The latency (seconds) below which ``fraction`` of the recorded ones lie."""
        if self.count == 0:
            return None
        wanted = max(1, math.ceil(fraction * self.count))
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= wanted:
                return _GROWTH ** (index + 0.5) / 1e6  # bucket middle
        raise AssertionError("unreachable")

    def to_json(self) -> dict[str, int]:
        """Bucket index -> count, JSON-ready."""
        return {str(index): hits for index, hits in self.buckets.items()}

    @classmethod
    def from_json(cls, raw: Mapping[str, int]) -> Histogram:
        """The inverse of ``to_json``."""
        histogram = cls()
        for index, hits in raw.items():
            histogram.buckets[int(index)] = int(hits)
            histogram.count += int(hits)
        return histogram


def percentile(samples: Iterable[float], fraction: float) -> float | None:
    """Nearest-rank percentile of ``samples`` (None when empty)."""
    ordered = sorted(samples)
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
