"""What the numbers were measured on: they only compare within one run on one machine."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (other work on a shared machine skews results)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def describe(loadgen: str) -> dict[str, Any]:
    """CPU model, usable cores, memory, OS, Python and the load generator."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "loadgen": loadgen,
        "load_average_at_start": load_average(),
    }


def label(machine: dict[str, Any]) -> str:
    """One line: ``AMD EPYC, 2 cores, 7.8 GiB, Linux 6.1, CPython 3.11.2, wrk 4.1.0``."""
    memory = f", {machine['memory_gib']} GiB" if machine.get("memory_gib") else ""
    return (
        f"{machine['cpu']}, {machine['usable_cores']} cores{memory}, {machine['os']}, "
        f"{machine['python']}, load generator: {machine['loadgen']}"
    )
