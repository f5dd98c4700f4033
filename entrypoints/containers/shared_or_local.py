"""The one shape of every piece of state replicas may share: in process, or Redis with a fallback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dependency_injector import providers

from adapters.failover.guard import SharedBackendGuard


def shared_or_local(
    backend: providers.Provider[str],
    guard: providers.Provider[SharedBackendGuard],
    *,
    local: providers.Provider[Any],
    shared: providers.Provider[Any],
    failover: Callable[..., Any],
    memory: providers.Provider[Any] | None = None,
) -> providers.Selector[Any]:
    """A provider choosing by CACHE_BACKEND (``backend``): with memory the in-process
    ``local`` one (or ``memory`` when given); with redis ``failover(shared, local, guard)``,
    the Redis-backed ``shared`` one while Redis answers and ``local`` while it is out.

    Only the chosen branch is ever built, so memory mode never connects to Redis.
    """
    return providers.Selector(
        backend,
        memory=local if memory is None else memory,
        redis=providers.Singleton(failover, shared, local, guard),
    )
