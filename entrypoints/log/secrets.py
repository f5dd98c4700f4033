"""Which values are secrets: the ones no log line may show.

Two readings of the same settings: :func:`secret_values` from validated :class:`Settings`,
and :func:`secrets_from_environment` straight from the environment and ``.env``, for when
logging must be set up (or a refusal printed) although another setting is invalid.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr, create_model
from pydantic_settings import BaseSettings, SettingsConfigDict

from entrypoints.settings import Settings


def secret_values(settings: Settings) -> list[str]:
    """The values no log line may show: every SecretStr setting and the password in REDIS_URL."""
    values = [
        value.get_secret_value()
        for value in (getattr(settings, name) for name in type(settings).model_fields)
        if isinstance(value, SecretStr)
    ]
    return [*values, *_url_password(settings.redis_url)]


def _url_password(url: str) -> list[str]:
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password] if password else []


class _SecretSources(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=Settings.model_config.get("env_file"), extra="ignore", case_sensitive=False
    )


def secrets_from_environment() -> list[str]:
    """The secret settings as the service reads them (environment, .env), without validating
    the rest: logging must be set up even when another setting is invalid."""
    fields: dict[str, Any] = {
        name: (str, "") for name, info in Settings.model_fields.items() if info.annotation is SecretStr
    }
    read = create_model(
        "SecretSources", __base__=_SecretSources, redis_url=(str, ""), **fields
    )().model_dump()
    # Both forms: the service sends the stripped one (Settings strips secrets), a stray log
    # line might show the raw one.
    raw = [read[name] for name in fields]
    return [*raw, *(value.strip() for value in raw), *_url_password(read["redis_url"])]
