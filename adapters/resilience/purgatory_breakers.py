"""Circuit breakers per provider, on purgatory (state in memory or shared in Redis)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState
from purgatory.service._async.unit_of_work import AsyncAbstractUnitOfWork, AsyncRedisUnitOfWork
from redis.asyncio import Redis

from adapters.resilience.clocked_circuit import ClockedCircuitBreaker
from domain.breaker_policy import BreakerPolicy, counts_as_failure
from domain.errors import CircuitOpen
from domain.ports import CircuitState, Clock

T = TypeVar("T")
_HALF_OPEN_BUSY_RETRY = 1.0


def redis_unit_of_work(client: Redis, prefix: str) -> AsyncRedisUnitOfWork:
    """purgatory's Redis unit of work on our pooled client and key namespace.

    purgatory builds a client of its own without timeouts and keys under ``cbr::``; a hung
    Redis would then stall every provider call, so both are replaced.
    """
    uow = AsyncRedisUnitOfWork("redis://unused")  # from_url does not connect
    uow.contexts.redis = client
    uow.contexts.prefix = f"{prefix}breaker:"
    return uow


class PurgatoryBreakers:
    """Implements the CircuitBreakers port with purgatory's AsyncCircuitBreakerFactory.

    What counts as a failure is the domain's ``counts_as_failure``; everything else passes
    through the circuit without touching it. purgatory lets every concurrent call through a
    half-open circuit; here only one probe at a time goes, the others are refused as if open.
    With a shared ``uow`` (Redis) every replica sees the same circuits and an outage of the
    store raises; ``FailoverBreakers`` moves the bookkeeping to in-process circuits meanwhile.
    Circuit timing follows ``clock`` (see ``clocked_circuit``).
    """

    def __init__(self, policy: BreakerPolicy, clock: Clock, uow: AsyncAbstractUnitOfWork | None = None) -> None:
        self._policy = policy
        self._clock = clock
        self._ttl = policy.reset_timeout
        self._threshold = policy.threshold
        self._factory = AsyncCircuitBreakerFactory(
            default_threshold=policy.threshold,
            default_ttl=policy.reset_timeout,
            exclude=[(BaseException, lambda error: not counts_as_failure(error))],
            uow=uow,
        )
        self._initialized = False
        self._probing: set[str] = set()

    async def call(self, provider: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run ``operation`` through the provider's circuit."""
        breaker = await self._breaker(provider)
        probing = self._view(breaker.context).state == "half_open"
        if probing:
            if provider in self._probing:
                raise CircuitOpen(provider, "circuit half-open, a probe is in flight",
                                  retry_after=_HALF_OPEN_BUSY_RETRY)  # fmt: skip
            self._probing.add(provider)
        try:
            async with breaker:
                return await operation()
        except OpenedState:
            raise CircuitOpen(
                provider, "circuit open after repeated failures",
                retry_after=self._view(breaker.context).retry_after,
            ) from None  # fmt: skip
        finally:
            if probing:
                self._probing.discard(provider)

    async def state(self, provider: str) -> CircuitState:
        """closed, open (with seconds until a retry) or half_open."""
        breaker = await self._breaker(provider)
        return self._view(breaker.context)

    async def _breaker(self, provider: str) -> Any:
        if not self._initialized:
            await self._factory.initialize()
            self._initialized = True
        breaker = await self._factory.get_breaker(provider)
        # A shared store keeps the threshold and ttl a circuit was created with; the current
        # settings win, so changing them takes effect without clearing Redis.
        breaker.context.threshold = self._threshold
        breaker.context.ttl = self._ttl
        return ClockedCircuitBreaker(breaker, self._policy, self._clock)

    def _view(self, context: Any) -> CircuitState:
        if context.state == "opened" and context.opened_at is not None:
            remaining = self._policy.retry_after(context.opened_at, self._clock.now())
            return CircuitState("open", round(remaining, 3)) if remaining > 0 else CircuitState("half_open")
        if context.state == "half-opened":
            return CircuitState("half_open")
        return CircuitState("closed")
