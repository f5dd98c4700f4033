"""The composition root: the one place that builds the object graph (dependency-injector).

It reads as a wiring diagram. As in dependency-injector's decoupled-packages example, each
part is a container of its own (``entrypoints/containers/``) that states what it needs
from the others, and ``Container`` connects them:

    settings ─► shared state ─► upstreams ─► live ─► application ─► edge ─► REST, gRPC

- ``SharedState``: the clock, the metrics, and the state replicas share through Redis or
  keep in process (cache, fill locks, circuits, cool-downs, client limits).
- ``Upstreams``: the HTTP session, our budgets, one adapter per provider registry entry
  (``entrypoints/registry/``), the configured lineup, the provider-call gate.
- ``Live``: the live streams' upstream side: bus, lease, demand, the stream supervisor over
  the lineup's MarketStreams (``entrypoints/containers/live.py``).
- ``Application``: read-through caching, the use cases and the live fan-out.
- ``Edge``: what the transports are handed.
"""

from __future__ import annotations

import inspect

from dependency_injector import containers, providers
from pydantic import SecretStr

from entrypoints.containers.application import Application
from entrypoints.containers.edge import Edge, UseCases
from entrypoints.containers.live import Live, stop_live
from entrypoints.containers.shared_state import SharedState
from entrypoints.containers.upstreams import Upstreams
from entrypoints.settings import Settings

__all__ = ["Container", "UseCases", "build_container", "start", "stop"]


class Container(containers.DeclarativeContainer):
    """The application container: one configuration, four parts, connected."""

    config = providers.Configuration(strict=True)

    shared = providers.Container(SharedState, config=config)
    upstreams = providers.Container(Upstreams, config=config, shared=shared)
    live = providers.Container(
        Live, config=config, shared=shared, upstreams=upstreams, streams=upstreams.lineup.provided.streams
    )
    application = providers.Container(Application, config=config, shared=shared, upstreams=upstreams, live=live)
    edge = providers.Container(Edge, shared=shared, application=application)

    # What the runners, the REST app and the tests resolve.
    use_cases = edge.use_cases
    metrics = edge.metrics
    access_log = edge.access_log


def build_container(settings: Settings) -> Container:
    """A container configured from ``settings`` (secrets unwrapped for the adapters)."""
    container = Container()
    values = {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in settings.model_dump().items()
    }
    container.config.from_dict(values)
    return container


async def start(container: Container) -> UseCases:
    """Resolve the use cases, starting only the resources they need, and the live streams'
    supervisor (it is nobody's dependency: it runs beside them)."""
    resolved = container.use_cases()
    use_cases = await resolved if inspect.isawaitable(resolved) else resolved
    running = container.live.running()
    if inspect.isawaitable(running):
        await running
    return use_cases


async def stop(container: Container) -> None:
    """Close every resource that was started (the HTTP session, Redis): the live streams
    first, which still need Redis to give their lease up."""
    await stop_live(container.live)
    result = container.shutdown_resources()
    if inspect.isawaitable(result):
        await result
