"""purgatory's circuit breaker with its timing on our Clock.

purgatory 3 reads ``time.time()`` itself, in two places of its state machine
(``purgatory/domain/model.py``): ``OpenedState.__init__`` stamps ``opened_at``, and
``OpenedState.handle_new_request`` turns the circuit half-open once
``time.time() > opened_at + ttl``. Neither is injectable. So this breaker takes both
decisions over through purgatory's public model, and purgatory's own readings are never used:

- entering an open circuit, the domain's ``BreakerPolicy`` decides on our clock whether it
  is still open (refused as purgatory would refuse it) or half-open (``set_state``), so
  purgatory's own expiry check is never reached. At exactly the timeout it is half-open, as
  health reports it (purgatory waited for the next tick of the wall clock);
- when a call opens the circuit, its ``opened_at`` is re-stamped from our clock before the
  events are handled, so what the store keeps (memory or Redis) and what listeners see is
  our time.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from purgatory import ContextChanged
from purgatory.domain.model import OPENED, HalfOpenedState, OpenedState
from purgatory.service._async.circuitbreaker import AsyncCircuitBreaker

from domain.breaker_policy import BreakerPolicy
from domain.ports import Clock


class ClockedCircuitBreaker(AsyncCircuitBreaker):
    """One use of a circuit, as ``async with``: purgatory's breaker, timed by ``clock``."""

    def __init__(self, breaker: AsyncCircuitBreaker, policy: BreakerPolicy, clock: Clock) -> None:
        super().__init__(breaker.context, breaker.uow, breaker.messagebus)
        self._policy = policy
        self._clock = clock

    async def __aenter__(self) -> Self:
        """Refuse with ``OpenedState`` while open; let the call through otherwise."""
        context = self.context
        if context.state == OPENED and context.opened_at is not None:
            if self._policy.retry_after(context.opened_at, self._clock.now()) > 0:
                raise OpenedState(context.name)
            context.set_state(HalfOpenedState())
        context.__enter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Record the outcome, then store and publish what changed (as purgatory does)."""
        self.context.__exit__(exc_type, exc, tb)
        self._stamp_opening()
        while self.context.messages:
            await self.messagebus.handle(self.context.messages.pop(0), self.uow)

    def _stamp_opening(self) -> None:
        messages = self.context.messages
        for index, message in enumerate(messages):
            if isinstance(message, ContextChanged) and message.state == OPENED:
                opened = OpenedState(self.context.name)
                opened.opened_at = self._clock.now()
                self.context.set_state(opened)  # queues the change with our stamp
                del messages[index]  # purgatory's own stamp is neither stored nor published
                return
