"""The per-connection cap on client messages (WS_MAX_MESSAGES_PER_SECOND): a token bucket."""

from __future__ import annotations

import math


class MessageRate:
    """Up to ``per_second`` messages a second, in bursts of at most ``per_second``.

    ``now`` is a monotonic clock reading in seconds, passed in by the caller (the event loop's
    time at the edge, a plain number in tests). A refused message is not counted; the first one
    refused after an accepted one is the one to answer (:meth:`take` says so), the others are
    dropped without a word, so a flood cannot make the server write a flood of errors.
    """

    def __init__(self, per_second: int, now: float) -> None:
        if per_second < 1:
            raise ValueError("per_second must be at least 1")
        self._rate = float(per_second)
        self._tokens = float(per_second)
        self._at = now
        self._warned = False

    def take(self, now: float) -> tuple[bool, bool]:
        """``(allowed, answer_refusal)`` for a message arriving at ``now``."""
        tokens = min(self._rate, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            self._warned = False
            return True, False
        self._tokens = tokens
        answer, self._warned = not self._warned, True
        return False, answer

    def retry_after(self) -> int:
        """Whole seconds until a message would be accepted (at least 1)."""
        return max(1, math.ceil((1.0 - self._tokens) / self._rate))
