"""When a provider's circuit should open: the parameters and what counts as a failure."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import (
    BadPayload,
    ProviderUnavailable,
    UpstreamBlocked,
    UpstreamRateLimited,
)

_PROVIDER_FAULTS = (ProviderUnavailable, UpstreamRateLimited, UpstreamBlocked, BadPayload)


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """``threshold`` consecutive failures open a circuit; after ``reset_timeout`` seconds one
    call is let through again (half-open)."""

    threshold: int
    reset_timeout: float

    def __post_init__(self) -> None:
        # purgatory reads 0 as "use the default", so a zero here would silently mean 5 / 30 s.
        if self.threshold < 1:
            raise ValueError("circuit breaker threshold must be at least 1")
        if self.reset_timeout <= 0:
            raise ValueError("circuit breaker timeout must be positive")

    def retry_after(self, opened_at: float, now: float) -> float:
        """Seconds before a circuit opened at ``opened_at`` lets a probe through; at or below
        zero it is half-open (both times from the same clock)."""
        return opened_at + self.reset_timeout - now


def counts_as_failure(error: BaseException) -> bool:
    """True when ``error`` says the provider itself is unhealthy.

    Timeouts, 5xx, blocks (403/451), rate limits and bans (429/418, Kraken's 200-with-error)
    and malformed or wrong-shape payloads count. A request's own fault, such as a market the
    provider does not list (``UpstreamRejected``), does not: one bad symbol must not take a
    healthy provider out of service.
    """
    return isinstance(error, (*_PROVIDER_FAULTS, TimeoutError))
