"""Trying providers in order until one answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from application.provider_calls import ProviderCalls
from domain.errors import ProviderDisabled, ProviderError, UpstreamRejected
from domain.fallback import FallbackAttempts

T = TypeVar("T")


class _Named(Protocol):
    name: str


P = TypeVar("P", bound=_Named)


async def first_answer(
    providers: Sequence[P],
    calls: ProviderCalls,
    operation: Callable[[P], Awaitable[T]],
    can_serve: Callable[[P], str | None] | None = None,
) -> T:
    """Ask each provider in order and return the first answer.

    Disabled providers, and those ``can_serve`` says cannot serve this request (it returns
    the reason), are skipped without a call: no request reaches a circuit it cannot serve.
    Raises ``AllProvidersFailed`` naming every provider tried or skipped and why.
    """
    attempts = FallbackAttempts()
    for provider in providers:
        if not calls.is_enabled(provider.name):
            attempts.record(ProviderDisabled(provider.name, "disabled by configuration"))
            continue
        refusal = can_serve(provider) if can_serve is not None else None
        if refusal is not None:
            attempts.record(UpstreamRejected(provider.name, refusal))
            continue
        try:
            return await calls.run(provider.name, lambda p=provider: operation(p))  # type: ignore[misc]
        except ProviderError as error:
            attempts.record(error)
    raise attempts.exhausted()
