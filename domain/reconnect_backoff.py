"""How long to wait before reopening a stream connection: capped exponential backoff with
jitter, and when a provider counts as down."""

from __future__ import annotations

from dataclasses import dataclass
from random import Random


@dataclass(frozen=True, slots=True)
class ReconnectBackoff:
    """The wait before the next attempt after ``failures`` failed attempts in a row.

    The ceiling grows as ``base * factor ** failures`` up to ``cap``; the wait is the ceiling
    less a random share of at most ``jitter`` of it ("equal jitter": never below
    ``(1 - jitter)`` of the ceiling, so a fleet of clients that lost the same exchange spreads
    out without any of them retrying in a tight loop). ``rng`` is injected so tests can seed it.
    """

    base: float = 1.0
    cap: float = 30.0
    factor: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.base <= 0 or self.cap < self.base:
            raise ValueError("backoff needs 0 < base <= cap")
        if self.factor < 1:
            raise ValueError("backoff factor must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("backoff jitter is a share between 0 and 1")

    def ceiling(self, failures: int) -> float:
        """The longest wait after ``failures`` failures in a row (0: after a drop of a
        connection that was up)."""
        exponent = min(max(failures, 0), 64)  # the cap is reached long before; no overflow
        return min(self.cap, self.base * self.factor**exponent)

    def delay(self, failures: int, rng: Random) -> float:
        """A wait in ``[(1 - jitter) * ceiling, ceiling]``."""
        ceiling = self.ceiling(failures)
        return ceiling - self.jitter * ceiling * rng.random()


#: Failed attempts in a row after which a stream provider is reported ``down`` (the
#: supervisor fails over to the next one then).
DOWN_AFTER_FAILURES = 3
