"""The candle store part of the object graph: chosen by CANDLE_STORE, like the cache backend."""

from __future__ import annotations

from typing import Any

from dependency_injector import providers

from adapters.store.off import no_candle_store
from adapters.store.postgres import postgres_candle_store
from adapters.store.sqlite import sqlite_candle_store
from domain.ports import Clock


def candle_store(
    config: providers.Configuration, clock: providers.Provider[Clock]
) -> providers.Selector[Any]:
    """A provider of the ``CandleStore`` CANDLE_STORE names: the SQLite file at
    CANDLE_STORE_PATH, PostgreSQL at DATABASE_URL (both resources: opened, and their schema made,
    when first resolved; closed at shutdown) or ``off``. Only the chosen one is ever built."""
    return providers.Selector(
        config.candle_store,
        sqlite=providers.Resource(sqlite_candle_store, path=config.candle_store_path, clock=clock),
        postgres=providers.Resource(postgres_candle_store, dsn=config.database_url, clock=clock),
        off=providers.Resource(no_candle_store),
    )
