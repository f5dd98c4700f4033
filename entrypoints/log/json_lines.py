"""The JSON format's hot path for a line written on every request (the access log)."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from entrypoints.log.redaction import SecretRedactor


class JsonLines:
    """Writes the line structlog would render, without structlog's machinery.

    The same fields (the given ones, then event, level, logger, timestamp), redacted by the
    same processor. Lines written in one turn of the event loop go to stderr in one write
    at the end of that turn; :meth:`close` writes what is still queued, and from then on
    every line is written at once (nothing may wait for a turn that never comes).
    """

    def __init__(self, redactor: SecretRedactor) -> None:
        self._redactor = redactor
        self._pending: list[bytes] = []
        self._flush_loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._second = -1
        self._prefix = ""

    def write(self, name: str, event: str, fields: dict[str, Any]) -> None:
        """Queue one info line of logger ``name`` (``fields`` becomes the line: not copied)."""
        fields["event"] = event
        fields["level"] = "info"
        fields["logger"] = name
        fields["timestamp"] = self._timestamp()
        self._redactor(None, "info", fields)
        line = orjson.dumps(fields, default=repr, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: nothing would flush later
            self._pending.append(line)
            self.flush()
            return
        if self._pending and loop is not self._flush_loop:  # queued on a loop that is gone
            self.flush()
        if not self._pending:
            if self._closed:
                self._pending.append(line)
                self.flush()
                return
            loop.call_soon(self.flush)
            self._flush_loop = loop
        self._pending.append(line)

    def flush(self) -> None:
        """Write the queued lines to stderr, in one write."""
        if self._pending:
            text = b"".join(self._pending).decode()
            self._pending.clear()
            stream = sys.stderr
            stream.write(text)
            stream.flush()

    def close(self) -> None:
        """Write what is queued; later lines are written at once."""
        self._closed = True
        self.flush()

    def _timestamp(self) -> str:
        # The wall clock itself, not the Clock port, as structlog's TimeStamper does for every
        # other line: a line's time is when it was written. The formatted second is reused.
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._prefix = datetime.fromtimestamp(second, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._prefix}.{int((now - second) * 1_000_000):06d}Z"
