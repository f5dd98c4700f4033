"""The upstream part of the object graph: one adapter per provider registry entry."""

from __future__ import annotations

from typing import Any

from dependency_injector import containers, providers

from adapters.http_session import client_session
from adapters.resilience.upstream_budget import MovingWindowBudgets
from application.provider_calls import ProviderCalls
from application.upstream_concurrency import most_calls_in_flight
from entrypoints import __version__
from entrypoints.registry.entry import AdapterParts, StreamParts
from entrypoints.registry.lineup import Lineup
from entrypoints.registry.providers import PROVIDERS

USER_AGENT = f"crypto-data-engine/{__version__}"


def _adapters(config: providers.Configuration, **shared_parts: providers.Provider[Any]) -> dict[str, Any]:
    """One adapter Singleton per registry entry, built from that provider's own settings."""
    return {
        entry.id: providers.Singleton(
            entry.build,
            providers.Factory(
                AdapterParts,
                provider=entry.id,
                base_url=getattr(config, entry.base_url_setting),
                api_key=getattr(config, entry.api_key_setting) if entry.api_key_setting else "",
                **shared_parts,
            ),
        )
        for entry in PROVIDERS
    }


def _streams(config: providers.Configuration, **shared_parts: providers.Provider[Any]) -> dict[str, Any]:
    """One MarketStream Singleton per registry entry that streams, at its *_WS_URL setting."""
    return {
        entry.id: providers.Singleton(
            entry.stream,
            providers.Factory(
                StreamParts, provider=entry.id, ws_url=getattr(config, entry.ws_url_setting), **shared_parts
            ),
        )
        for entry in PROVIDERS
        if entry.stream is not None and entry.ws_url_setting is not None
    }


def _budgets(config: providers.Configuration) -> dict[str, Any]:
    """Each registry entry's UPSTREAM_BUDGET_* setting, by provider id."""
    return {entry.id: getattr(config, entry.budget_setting) for entry in PROVIDERS}


class Upstreams(containers.DeclarativeContainer):
    """The providers: one HTTP session, our own budget per provider, one adapter per registry
    entry (``adapters``, by provider id), one stream adapter per entry that streams
    (``streams``, by provider id), the configured ``lineup`` (``lineup.streams``: the stream
    adapters in STREAM_PROVIDERS order), and ``calls``, the gate every provider call goes
    through."""

    config = providers.Configuration(strict=True)
    shared = providers.DependenciesContainer()

    http_session = providers.Resource(
        client_session,
        request_timeout=config.request_timeout,
        user_agent=USER_AGENT,
        max_connections=providers.Callable(
            most_calls_in_flight, config.supported_symbols, config.supported_intervals, config.price_providers
        ),
    )
    budgets = providers.Singleton(
        MovingWindowBudgets,
        budgets=providers.Dict(_budgets(config)),
        clock=shared.clock,
        costs={entry.id: entry.cost for entry in PROVIDERS},
    )
    adapters = providers.Dict(_adapters(config, session=http_session, budgets=budgets, clock=shared.clock))
    streams = providers.Dict(_streams(config, session=http_session, clock=shared.clock))
    lineup = providers.Singleton(
        Lineup,
        adapters,
        ohlcv_providers=config.ohlcv_providers,
        price_providers=config.price_providers,
        enable_sentiment=config.enable_sentiment,
        streams=streams,
        stream_providers=config.stream_providers,
    )
    calls = providers.Singleton(
        ProviderCalls,
        shared.clock,
        config.request_timeout,
        providers=lineup.provided.every,
        breakers=shared.breakers,
        cooldowns=shared.cooldowns,
        budgets=budgets,
        telemetry=shared.metrics,
    )
