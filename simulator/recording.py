"""What the simulator received: every request to a provider, faulted ones included."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .faults import normalize_path


class Headers(dict[str, str]):
    """Request headers keyed in lower case; ``[]``, ``get`` and ``in`` ignore case.

    Repeated headers are joined with ``", "`` as HTTP allows.
    """

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        for name, value in items:
            key = name.lower()
            super().__setitem__(key, f"{self[key]}, {value}" if key in self else value)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        """The header ``key`` (any case), or ``default``."""
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received: ``path`` is relative to the provider prefix
    (``/api/v3/klines``), ``query`` keeps the last value of repeated parameters."""

    provider: str
    path: str
    query: dict[str, str]
    headers: Headers


class CallLog:
    """The requests one simulator received, in arrival order."""

    def __init__(self) -> None:
        self._requests: list[RecordedRequest] = []

    def record(self, entry: RecordedRequest) -> None:
        """Append ``entry``."""
        self._requests.append(entry)

    def calls(self, provider: str, path: str | None = None) -> int:
        """How many requests ``provider`` received, optionally for one ``path``."""
        wanted = None if path is None else normalize_path(path)
        return sum(
            1
            for entry in self._requests
            if entry.provider == provider and (wanted is None or normalize_path(entry.path) == wanted)
        )

    def counts(self, providers: Iterable[str]) -> dict[str, int]:
        """Requests per provider, zeros included."""
        return {provider: self.calls(provider) for provider in providers}

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the log."""
        return list(self._requests)

    def clear(self) -> None:
        """Forget every request."""
        self._requests.clear()
