"""The access log: one line per answered REST request or gRPC call.

The container builds one with :func:`open_access_log` (a Resource: closing it writes the
lines still queued at shutdown) and hands it to both edges. Which kind it builds follows
how :func:`~entrypoints.log.configure.configure_logging` set up the process:

- JSON (production): :class:`JsonAccessLog`, the hot path of
  :class:`~entrypoints.log.json_lines.JsonLines`;
- console, or logging not configured: :class:`StructlogAccessLog`, through structlog like
  any other line (so ``structlog.testing.capture_logs`` sees it in tests);
- JSON above INFO: :class:`AccessLog` itself, which writes nothing.

The line carries the request id the edge bound with
:func:`~entrypoints.log.request_context.bind_request_id`; callers never pass it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import structlog

from entrypoints.log.configure import LogOutput, configured_output
from entrypoints.log.json_lines import JsonLines
from entrypoints.log.request_context import bound_request_id

ACCESS_LOGGER = "access"


class AccessLog:
    """What the edges write their access lines to.

    This base class is also the access log of a level above INFO: it drops every line.
    """

    __slots__ = ()

    def write(self, event: str, **fields: Any) -> None:
        """Log ``event`` ("request", "rpc") with ``fields`` and the bound request id."""

    def close(self) -> None:
        """Write what is still queued (at shutdown)."""


class StructlogAccessLog(AccessLog):
    """Access lines through structlog's processors: the console format, and tests."""

    __slots__ = ("_logger",)

    def __init__(self, name: str = ACCESS_LOGGER) -> None:
        self._logger = structlog.get_logger(name)

    def write(self, event: str, **fields: Any) -> None:
        """Log ``event`` with ``fields`` and the bound request id, at info level."""
        self._logger.info(event, **fields, request_id=bound_request_id())


class JsonAccessLog(AccessLog):
    """Access lines in the JSON format, without structlog's machinery (one per request)."""

    __slots__ = ("_lines", "_name")

    def __init__(self, lines: JsonLines, name: str = ACCESS_LOGGER) -> None:
        self._lines = lines
        self._name = name

    def write(self, event: str, **fields: Any) -> None:
        """Queue the line of ``event`` with ``fields`` and the bound request id."""
        fields["request_id"] = bound_request_id()
        self._lines.write(self._name, event, fields)

    def close(self) -> None:
        """Write the queued lines; later ones are written at once."""
        self._lines.close()


def access_log_for(output: LogOutput | None) -> AccessLog:
    """The access log that writes in ``output``'s format and level."""
    if output is None or output.fmt != "json":
        return StructlogAccessLog()
    if output.level > logging.INFO:
        return AccessLog()
    return JsonAccessLog(JsonLines(output.redactor))


def open_access_log() -> Iterator[AccessLog]:
    """The container's Resource: the access log of the configured output, closed at shutdown."""
    access_log = access_log_for(configured_output())
    try:
        yield access_log
    finally:
        access_log.close()
