"""The fault model: what a test asks an upstream to do wrong, and for which requests.

A fault either *modifies* the normal answer (``slow``, ``skew``, ``last_as_string``) or
*replaces* it (every other kind). All matching modifiers apply together; among
replacing faults the most recently set one wins. Each fault that takes part in a request
uses up one of its ``times``; it disappears when none are left.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field
from typing import Any

#: Kinds every provider understands (``skew`` only where there are prices).
COMMON_KINDS = frozenset(
    {
        "http_500",
        "http_503",
        "timeout",
        "slow",
        "malformed_json",
        "html",
        "rate_limit",
        "wrong_shape",
        "empty",
        "connection_reset",
        "oversized",
    }
)
MODIFIER_KINDS = frozenset({"slow", "skew", "last_as_string"})


def normalize_path(path: str) -> str:
    """``/fng/`` and ``/fng`` are the same path for filters and counters."""
    return path.rstrip("/") or "/"


@dataclass
class Fault:
    """One injected fault of ``provider``.

    ``path`` limits it to requests with that path after the provider prefix (shell-style
    wildcards allowed, e.g. ``/assets/*``); ``times`` to the next N matching requests
    (``None``: until cleared). ``params`` are kind-specific (``delay``, ``factor``,
    ``status``, ``retry_after``, ``message``). ``remaining`` counts down from ``times``.
    """

    provider: str
    kind: str
    path: str | None = None
    times: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    remaining: int | None = field(init=False)

    def __post_init__(self) -> None:
        if self.times is not None and (not isinstance(self.times, int) or self.times < 1):
            raise ValueError(f"times must be a positive integer or None, got {self.times!r}")
        _check_params(self.kind, self.params)
        self.remaining = self.times

    def matches(self, provider: str, path: str) -> bool:
        """Whether this fault applies to a request of ``provider`` for ``path``."""
        if provider != self.provider:
            return False
        if self.path is None:
            return True
        wanted, actual = normalize_path(self.path), normalize_path(path)
        if any(char in wanted for char in "*?["):
            return fnmatch.fnmatchcase(actual, wanted)
        return actual == wanted

    @property
    def exhausted(self) -> bool:
        """True once the fault has been used ``times`` times."""
        return self.remaining is not None and self.remaining <= 0

    def describe(self) -> dict[str, Any]:
        """A JSON-ready view, as the control API shows it."""
        return {
            "provider": self.provider,
            "kind": self.kind,
            "path": self.path,
            "times": self.times,
            "remaining": self.remaining,
            **self.params,
        }


@dataclass(frozen=True)
class Effects:
    """What the faults matching one request ask for."""

    delay: float = 0.0
    skew: float = 1.0
    last_as_string: bool = False
    answer: Fault | None = None


NO_EFFECTS = Effects()


class FaultBook:
    """The faults currently set on one simulator."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Set ``fault``; it takes precedence over replacing faults set before it."""
        self._faults.append(fault)
        return fault

    def clear(self, provider: str | None = None) -> int:
        """Remove the faults of ``provider`` (all when None); returns how many went."""
        kept = [f for f in self._faults if provider is not None and f.provider != provider]
        removed = len(self._faults) - len(kept)
        self._faults = kept
        return removed

    def active(self, provider: str | None = None) -> list[Fault]:
        """The faults still set, oldest first."""
        return [f for f in self._faults if provider is None or f.provider == provider]

    def take(self, provider: str, path: str) -> Effects:
        """The effects for one request, using up one of each participating fault's times."""
        delay, skew, last_as_string = 0.0, 1.0, False
        answer: Fault | None = None
        used: list[Fault] = []
        for fault in reversed(self._faults):
            if not fault.matches(provider, path):
                continue
            if fault.kind == "slow":
                delay += float(fault.params.get("delay", 1.0))
            elif fault.kind == "skew":
                skew *= float(fault.params["factor"])
            elif fault.kind == "last_as_string":
                last_as_string = True
            elif answer is None:
                answer = fault
            else:
                continue
            used.append(fault)
        for fault in used:
            if fault.remaining is not None:
                fault.remaining -= 1
        self._faults = [f for f in self._faults if not f.exhausted]
        return Effects(delay, skew, last_as_string, answer)


def _check_params(kind: str, params: dict[str, Any]) -> None:
    def number(name: str) -> float:
        value = params[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{kind}: {name} must be a number, got {value!r}")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{kind}: {name} must be a finite number >= 0, got {value!r}")
        return float(value)

    if kind == "skew" and ("factor" not in params or number("factor") <= 0):
        raise ValueError("skew needs a positive 'factor'")
    if kind == "slow" and "delay" in params:
        number("delay")
    if "retry_after" in params:
        number("retry_after")
    if "status" in params:
        status = params["status"]
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise TypeError(f"{kind}: status must be an HTTP status code, got {status!r}")
    if "message" in params and not isinstance(params["message"], str):
        raise TypeError(f"{kind}: message must be a string")
