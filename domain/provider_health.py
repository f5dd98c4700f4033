"""What the service knows about each provider's health, from real traffic."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    """A provider's state as health reports it.

    ``status`` is online, degraded, offline, disabled, or unknown until the provider has been
    called (then nothing is known of it); ``circuit`` closed, open or half_open;
    ``latency_ms`` and ``last_check`` (epoch seconds) come from the last real call, ``None``
    before the first one.
    """

    name: str
    status: str
    circuit: str
    latency_ms: float | None
    last_check: float | None
    error_message: str | None
    calls: int = 0
    failures: int = 0
