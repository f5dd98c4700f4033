"""structlog configuration: JSON lines in production, readable console output on request.

:func:`configure_logging` sets up the process's logging once, before the container is
built: our loggers straight to stderr, the standard library's through a handler, one
format, the :class:`~entrypoints.log.redaction.SecretRedactor` last before rendering. It
records what it set up as a :class:`LogOutput`, which the access log the container builds
follows (see :mod:`entrypoints.log.access_log`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from structlog.typing import EventDict

from entrypoints.log.redaction import SecretRedactor
from entrypoints.log.request_context import add_request_id
from entrypoints.log.secrets import secrets_from_environment
from entrypoints.log.stderr import stderr_line


@dataclass(frozen=True, slots=True)
class LogOutput:
    """How the process logs, as :func:`configure_logging` last set it up."""

    fmt: str  # "json" or "console"
    level: int  # the standard library's number: 20 for INFO
    redactor: SecretRedactor  # the one every line goes through


# Logging is process-wide (structlog's configuration, the root logger, stderr); so is the
# record of how it was configured. None until configure_logging runs.
_output: LogOutput | None = None


def configured_output() -> LogOutput | None:
    """How :func:`configure_logging` set up logging; None when it has not run."""
    return _output


def _colors() -> bool:
    """Colours on a terminal only (escape codes are noise in files and log collectors);
    NO_COLOR and FORCE_COLOR are honoured."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stderr.isatty()


def _json_line(logger: Any, method_name: str, event_dict: EventDict) -> str:
    return orjson.dumps(event_dict, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()


# One list, changed in place by every configuration: loggers cached on first use keep a
# reference to it, so a later configuration (tests, a worker) still reaches them.
_PROCESSORS: list[structlog.typing.Processor] = []
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "exception": 40, "critical": 50,
           "fatal": 50}  # fmt: skip


def _at_least(level: str) -> structlog.typing.Processor:
    threshold = logging.getLevelName(level.upper())

    def drop_below(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
        if _LEVELS.get(method_name, 20) < threshold:
            raise structlog.DropEvent
        return event_dict

    return drop_below


def configure_logging(level: str = "INFO", fmt: str = "json", secrets: Iterable[str] | None = None) -> None:
    """Our loggers straight to stderr, the standard library's through a handler, in one format.

    ``secrets``: values to mask in every line (see
    :func:`~entrypoints.log.secrets.secret_values`); by default the secret settings as read
    from the environment and ``.env``.
    """
    global _output
    redactor = SecretRedactor(secrets_from_environment() if secrets is None else secrets)
    _output = LogOutput(fmt, logging.getLevelName(level.upper()), redactor)
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_request_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=_colors()) if fmt == "console" else _json_line
    )
    # Tracebacks become plain text before the redactor, in both formats, so it sees them;
    # the console renderer's own (rich) tracebacks would also print every frame's local
    # variables, tokens included.
    final: list[structlog.typing.Processor] = [structlog.processors.format_exc_info, redactor, renderer]
    _PROCESSORS[:] = [_at_least(level), *shared, *final]
    structlog.configure(
        processors=_PROCESSORS,
        logger_factory=stderr_line,
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
