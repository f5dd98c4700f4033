"""The process's file-descriptor limit: raised to the hard limit at start, split into the
connections clients may hold and a reserve the service keeps for itself."""

from __future__ import annotations

import os
from dataclasses import dataclass

try:  # not on Windows
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

from application.upstream_concurrency import MOST_CONNECTIONS

# Descriptors the service keeps for itself beyond those open at start: the whole upstream
# connection pool, plus Redis, gRPC and log files.
HEADROOM = MOST_CONNECTIONS + 128
# Connections past the served ones that are still accepted, for health and metrics only: on top
# of the service's own descriptors, never taken out of them.
HEALTH_SLICE = 64
# When the hard limit is "unlimited", raise the soft one this far (Linux refuses more than
# fs.nr_open, 1048576 by default).
_UNLIMITED_TARGET = 1 << 20


@dataclass(frozen=True, slots=True)
class FileLimit:
    """The soft limit before and after raising it, the hard limit, and the descriptors open
    when it was read. ``soft`` is None where the platform has no such limit."""

    soft_before: int | None
    soft: int | None
    hard: int | None
    open_at_start: int

    @property
    def reserve(self) -> int | None:
        """Descriptors not given to normal client connections: those open at start, the
        service's own ``HEADROOM`` and the ``HEALTH_SLICE``, at most half the limit."""
        if self.soft is None:
            return None
        return min(self.open_at_start + HEADROOM + HEALTH_SLICE, self.soft // 2)

    @property
    def served(self) -> int | None:
        """Client connections served normally: the limit less the reserve."""
        return None if self.soft is None else self.soft - self.reserve  # type: ignore[operator]

    @property
    def with_reserve(self) -> int | None:
        """Client connections at all: past ``served``, a slice of the reserve answers health
        and metrics (``HEALTH_SLICE``, at most a quarter of a reserve cut to half the limit);
        the rest stays for the service's own descriptors."""
        if self.soft is None:
            return None
        return self.served + min(HEALTH_SLICE, self.reserve // 4)  # type: ignore[operator]


def open_descriptors() -> int:
    """Descriptors this process holds now (0 where that cannot be read cheaply)."""
    for directory in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(directory)) - 1  # listing it opened one more
        except OSError:
            continue
    return 0


def raise_file_limit() -> FileLimit:
    """Raise the soft RLIMIT_NOFILE to the hard limit (when allowed) and report both."""
    opened = open_descriptors()
    if resource is None:  # pragma: no cover - Windows
        return FileLimit(None, None, None, opened)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft == resource.RLIM_INFINITY or soft >= target:
        return FileLimit(soft, soft if soft != resource.RLIM_INFINITY else target, hard, opened)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return FileLimit(soft, soft, hard, opened)
    return FileLimit(soft, target, hard, opened)
