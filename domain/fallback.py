"""The ordered fallback over providers, as pure code."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from domain.errors import AllProvidersFailed, ProviderError, UpstreamRejected

#: Seconds to wait before asking again a provider that failed without saying when it may be
#: asked (a timeout, a 500): it may recover any moment, or not for a while.
UNKNOWN_RETRY_AFTER = 30.0


def fallback_order(configured: Sequence[str], available: Collection[str]) -> tuple[str, ...]:
    """Validate a configured provider order (e.g. OHLCV_PROVIDERS) against known providers.

    Raises ``ValueError`` for an empty list, an unknown provider or a duplicate.
    """
    order = tuple(name.strip().lower() for name in configured if name.strip())
    if not order:
        raise ValueError("at least one provider must be configured")
    unknown = [name for name in order if name not in available]
    if unknown:
        raise ValueError(f"unknown provider(s) {unknown}; available: {sorted(available)}")
    if len(set(order)) != len(order):
        raise ValueError(f"provider listed twice in {list(order)}")
    return order


def chain_walk_time(request_timeout: float, chain: Sequence[str]) -> float:
    """The longest a walk down ``chain`` can take: every provider used its whole
    ``request_timeout``, plus a second for the rest. Whoever waits on a walk (a replica
    waiting for another to fill the cache) waits this long before giving up on it."""
    return request_timeout * len(chain) + 1.0


class FallbackAttempts:
    """Collects why each provider of a chain gave no answer, to report when all failed."""

    def __init__(self) -> None:
        self._failures: dict[str, str] = {}
        self._retry_after: list[float | None] = []
        self._rejected_only = True

    def record(self, error: ProviderError) -> None:
        """Note that ``error.provider`` failed or was skipped."""
        self._failures[error.provider] = error.reason
        self._retry_after.append(error.retry_after)
        self._rejected_only = self._rejected_only and isinstance(error, UpstreamRejected)

    @property
    def failures(self) -> dict[str, str]:
        """Provider id → reason, in the order they were tried."""
        return dict(self._failures)

    def exhausted(self) -> AllProvidersFailed:
        """The error to raise once every provider has failed.

        ``retry_after`` is the soonest time any provider may be asked again: the soonest any of
        them said (a cool-down, an open circuit, our own budget refilling), but no later than
        ``UNKNOWN_RETRY_AFTER`` when another failed without saying (a timeout, a 500). ``None``
        when none said: the edge then answers with its default.
        """
        known = [after for after in self._retry_after if after is not None]
        if not known:
            retry = None
        elif len(known) == len(self._retry_after):
            retry = min(known)
        else:
            retry = min(*known, UNKNOWN_RETRY_AFTER)
        return AllProvidersFailed(
            self._failures, retry_after=retry, rejected_only=bool(self._failures) and self._rejected_only
        )
