"""Warnings about clients are rate limited per kind, with the count of those left out."""

from __future__ import annotations

from typing import Any

from entrypoints.rest.connections.flood_log import FloodLog
from tests.fakes import FakeClock


class RecordingLogger:
    """Records each warning as (event, fields)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))


def test_one_line_per_kind_per_window_then_the_suppressed_count() -> None:
    logger, clock = RecordingLogger(), FakeClock()
    flood = FloodLog(logger, clock, window=10)
    written = [flood.warning("malformed", "refused", n=n) for n in range(5)]
    flood.warning("header_timeout", "timed out")  # another kind has its own window
    clock.advance(9.999)
    flood.warning("malformed", "refused", n=5)
    clock.advance(0.001)
    flood.warning("malformed", "refused", n=6)

    assert written == [True, False, False, False, False]
    assert logger.lines == [
        ("refused", {"kind": "malformed", "suppressed": 0, "n": 0}),
        ("timed out", {"kind": "header_timeout", "suppressed": 0}),
        ("refused", {"kind": "malformed", "suppressed": 5, "n": 6}),
    ]
