"""Errors of the domain. Entrypoints map them once, at the edge, to HTTP and gRPC."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base class of every error this service raises on purpose."""


class InvalidInput(DomainError):
    """A request the service refuses before calling any provider."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidSymbol(InvalidInput):
    """An unknown or malformed symbol."""


class InvalidInterval(InvalidInput):
    """An interval that is not supported."""


class InvalidParameter(InvalidInput):
    """Any other bad request parameter (limit out of range, not a number, missing)."""


class RateLimited(DomainError):
    """A client went over its request limit; ``retry_after`` seconds until it may retry."""

    def __init__(self, limit: int, retry_after: float) -> None:
        super().__init__(f"rate limit of {limit} requests per minute exceeded")
        self.limit = limit
        self.retry_after = retry_after


class FeatureDisabled(DomainError):
    """The operator switched this capability off (e.g. ENABLE_SENTIMENT=false)."""


class ProviderError(DomainError):
    """An upstream provider could not give an answer.

    ``reason`` is a short human-readable cause; ``retry_after`` (seconds) is set when the
    provider told us, or we know, when it may be asked again.
    """

    def __init__(self, provider: str, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """Timeouts, connection failures, 5xx and the provider's own 'unavailable' errors."""


class UpstreamTimeout(ProviderUnavailable):
    """The provider did not answer in time."""


class UpstreamRateLimited(ProviderError):
    """The provider rate-limited or banned us (429, 418, Kraken's 'Too many requests')."""


class UpstreamBlocked(ProviderError):
    """The provider refuses this host (Binance 403 WAF or 451 geo-block)."""


class BadPayload(ProviderError):
    """A response that is not the documented shape: HTML, truncated JSON, wrong fields."""


class UpstreamRejected(ProviderError):
    """The provider refused this particular request (e.g. a market it does not list).

    The request's own fault, not the provider's: it must not open a circuit.
    """


class ProviderDisabled(ProviderError):
    """The provider is switched off by configuration (e.g. CoinCap without an API key)."""


class CircuitOpen(ProviderError):
    """The provider's circuit is open or it asked us to back off; it was not called."""


class CoolingDown(CircuitOpen):
    """The provider asked us to wait (Retry-After, a block) and that time has not passed."""


class BudgetExhausted(ProviderError):
    """Our own request budget for the provider is spent; it was not called.

    Protects the provider's limits (and us from a ban) when our traffic spikes. Not the
    provider's fault, so it does not count against its circuit.
    """


class AllProvidersFailed(DomainError):
    """Every provider for a request failed or was skipped, and nothing is cached.

    ``failures`` maps provider id to its reason; ``retry_after`` is when asking again may
    help (``None``: unknown). ``rejected_only`` is true when every provider refused the
    request itself (a market none of them lists): retrying cannot help.
    """

    def __init__(
        self, failures: Mapping[str, str], *, retry_after: float | None = None, rejected_only: bool = False
    ) -> None:
        summary = "; ".join(f"{name}: {why}" for name, why in failures.items()) or "no provider"
        super().__init__(f"every provider failed ({summary})")
        self.failures = dict(failures)
        self.retry_after = retry_after
        self.rejected_only = rejected_only
