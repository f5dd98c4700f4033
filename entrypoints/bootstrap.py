"""How a process of the service starts: its settings, then its logging.

The command (``entrypoints.cli``) and every worker of ``serve --workers N`` (a fresh
interpreter each, see ``entrypoints.workers``) start the same way, from here, so neither
needs the other to begin.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from pydantic import ValidationError

from entrypoints.log import SecretRedactor, configure_logging, secrets_from_environment
from entrypoints.settings import Settings


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and .env; invalid ones end the program with a clear message."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as error:
        # Some messages quote the refused value (a base URL, a budget): mask any key in it,
        # say a COINCAP_BASE_URL=...?apiKey=KEY.
        mask = SecretRedactor(secrets_from_environment()).mask
        lines = [
            f"  {'.'.join(map(str, e['loc'])).upper() or 'settings'}: {mask(e['msg'])}"
            for e in error.errors()
        ]
        sys.exit("invalid settings:\n" + "\n".join(lines))


def boot(overrides: Mapping[str, object]) -> Settings:
    """The settings (the environment, then ``overrides`` that are not None), with logging
    configured by them: the first thing a process of the service does."""
    settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_format)
    return settings
