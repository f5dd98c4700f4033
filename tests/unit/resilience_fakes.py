"""Fakes of the resilience ports (CircuitBreakers, Cooldowns, UpstreamBudgets) for unit tests.

They implement the ports in ``domain.ports`` and record what they were asked; no mocks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from domain.errors import BudgetExhausted, CircuitOpen
from domain.ports import CircuitState

T = TypeVar("T")


@dataclass
class FakeBreakers:
    """Circuits whose state the test sets; an open circuit refuses without running."""

    states: dict[str, CircuitState] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def set_state(self, provider: str, state: str, retry_after: float | None = None) -> None:
        self.states[provider] = CircuitState(state, retry_after)

    async def call(self, provider: str, operation: Callable[[], Awaitable[T]]) -> T:
        self.calls.append(provider)
        circuit = self.states.get(provider, CircuitState("closed"))
        if circuit.state == "open":
            raise CircuitOpen(provider, "circuit open", retry_after=circuit.retry_after)
        return await operation()

    async def state(self, provider: str) -> CircuitState:
        return self.states.get(provider, CircuitState("closed"))


@dataclass
class FakeCooldowns:
    """Cool-downs kept in a dict; records every hold."""

    held: dict[str, float] = field(default_factory=dict)
    holds: list[tuple[str, float]] = field(default_factory=list)

    async def until(self, provider: str) -> float | None:
        return self.held.get(provider)

    async def hold(self, provider: str, until: float) -> None:
        self.holds.append((provider, until))
        self.held[provider] = max(until, self.held.get(provider, 0.0))


@dataclass
class FakeBudgets:
    """A budget per provider that is either available or spent."""

    spent: set[str] = field(default_factory=set)
    taken: list[str] = field(default_factory=list)

    async def take(self, provider: str) -> None:
        if provider in self.spent:
            raise BudgetExhausted(provider, "our request budget is spent", retry_after=7.0)
        self.taken.append(provider)
