"""Provider cool-downs kept in process memory."""

from __future__ import annotations


class MemoryCooldowns:
    """Implements the Cooldowns port in memory (one process)."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    async def until(self, provider: str) -> float | None:
        """Epoch seconds before which ``provider`` must not be called, if any."""
        return self._until.get(provider)

    async def hold(self, provider: str, until: float) -> None:
        """Keep the later of the current and the new cool-down."""
        self._until[provider] = max(until, self._until.get(provider, 0.0))
