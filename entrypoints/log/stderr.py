"""structlog's final logger for our own loggers: one rendered line per event on stderr."""

from __future__ import annotations

import sys
from typing import Any


class StderrLine:
    """Writes each rendered event as one line on stderr.

    Our loggers skip the standard library's logging machinery (records, handlers, locks),
    which cost more than the rest of a cached request; ``sys.stderr`` is looked up per line,
    so a redirected stderr is honoured. ``name`` is what ``add_logger_name`` reports.
    """

    __slots__ = ("name",)

    def __init__(self, name: str | None = None) -> None:
        self.name = name

    def msg(self, line: str) -> None:
        """Write one line."""
        stream = sys.stderr
        stream.write(line + "\n")
        stream.flush()

    log = debug = info = warn = warning = error = err = critical = exception = fatal = failure = msg


def stderr_line(*args: Any) -> StderrLine:
    """structlog's ``logger_factory``: a :class:`StderrLine` named after the logger, if named."""
    return StderrLine(args[0] if args and isinstance(args[0], str) else None)
