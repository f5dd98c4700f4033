"""CANDLE_STORE picks the store; only the chosen one is opened, and it is closed at stop."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from entrypoints.container import build_container, start, stop
from entrypoints.settings import Settings


def _settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


async def test_sqlite_is_the_default_and_its_file_is_made_where_configured(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "candles.sqlite3"
    container = build_container(_settings(candle_store_path=str(path)))
    try:
        await start(container)
        store = await container.shared.candle_store()
        assert store.name == "sqlite"
        assert path.exists()
    finally:
        await stop(container)
    assert not container.shared.candle_store.providers["sqlite"].initialized  # closed at stop


async def test_postgres_at_database_url(postgres_database: str) -> None:
    container = build_container(_settings(candle_store="postgres", database_url=postgres_database))
    try:
        store = await container.shared.candle_store()
        assert store.name == "postgres"
        assert await store.covered("binance", *_btc_hour(), 0, 1) == ()  # the schema is there
    finally:
        await stop(container)


async def test_off_keeps_nothing_and_opens_no_file(tmp_path: Path) -> None:
    path = tmp_path / "candles.sqlite3"
    container = build_container(_settings(candle_store="off", candle_store_path=str(path)))
    try:
        store = await container.shared.candle_store()
        assert store.name == "off"
        assert await store.range(*_btc_hour(), 0, 10**13, 10) == ()
    finally:
        await stop(container)
    assert not path.exists()


def test_postgres_without_database_url_fails_at_start() -> None:
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        _settings(candle_store="postgres")


def _btc_hour() -> tuple[object, object]:
    from domain.interval import Interval
    from domain.symbol import Symbol

    return Symbol("BTC"), Interval("1h")
