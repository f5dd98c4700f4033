"""Where the encoded answers are kept: least recently used first out, bounded by the bytes
held rather than by a count (answers range from 1 to 100 KB)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

#: An answer's encoding without its timestamp, in the two pieces a fresh one is put between
#: (REST) or after (gRPC).
Parts = tuple[bytes, bytes]


class ByteBoundedLru:
    """Pairs of byte strings by key, at most ``max_bytes`` of them in all."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._kept: OrderedDict[Hashable, Parts] = OrderedDict()

    def get(self, key: Hashable) -> Parts | None:
        """The parts kept for ``key`` (now the most recently used), or None."""
        parts = self._kept.get(key)
        if parts is not None:
            self._kept.move_to_end(key)
        return parts

    def put(self, key: Hashable, parts: Parts) -> None:
        """Keep ``parts``, dropping the least recently used beyond the budget; parts larger
        than the whole budget are not kept."""
        size = len(parts[0]) + len(parts[1])
        if size > self._max_bytes:
            return
        self._kept[key] = parts
        self._bytes += size
        while self._bytes > self._max_bytes:
            _, (first, second) = self._kept.popitem(last=False)
            self._bytes -= len(first) + len(second)

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def size(self) -> int:
        """Bytes held."""
        return self._bytes
