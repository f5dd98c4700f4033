"""Candle intervals as a value object."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.client_input import quoted
from domain.errors import InvalidInterval

_SECONDS = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "4h": 14400,
    "1d": 86400,
    "1w": 604800,
}

KNOWN_INTERVALS: tuple[str, ...] = tuple(_SECONDS)


@dataclass(frozen=True, slots=True)
class Interval:
    """A candle interval such as ``1h``; ``seconds`` is its length."""

    name: str

    @property
    def seconds(self) -> int:
        """The interval's length in seconds."""
        return _SECONDS[self.name]

    @property
    def milliseconds(self) -> int:
        """The interval's length in milliseconds."""
        return _SECONDS[self.name] * 1000

    def __str__(self) -> str:
        return self.name


class IntervalParser:
    """Parses client input into an :class:`Interval` among the supported ones.

    Matching is exact except that hour, day and week units may be upper case (``1H``); ``1M``
    is refused rather than guessed, since exchanges read it as one month.
    """

    def __init__(self, supported: Iterable[str]) -> None:
        names = tuple(supported)
        unknown = [n for n in names if n not in _SECONDS]
        if unknown:
            raise ValueError(f"unknown interval(s) {unknown}; known: {list(KNOWN_INTERVALS)}")
        self._supported = {n: Interval(n) for n in names}

    @property
    def supported(self) -> tuple[str, ...]:
        """The interval names this service serves."""
        return tuple(self._supported)

    def parse(self, raw: str | None) -> Interval:
        """Return the interval for ``raw`` or raise :class:`InvalidInterval`."""
        if raw is None or not raw.strip():
            raise InvalidInterval("interval is required", field="interval")
        text = raw.strip()
        if text[-1:] in ("H", "D", "W"):
            text = text[:-1] + text[-1].lower()
        interval = self._supported.get(text)
        if interval is None:
            raise InvalidInterval(
                f"unsupported interval {quoted(raw)}; use one of {', '.join(self._supported)}",
                field="interval",
            )
        return interval
