"""Which event loop runs the service: uvloop (the default, where it is installed) or asyncio's."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import structlog

T = TypeVar("T")
log = structlog.get_logger("serve")


def run(main: Coroutine[Any, Any, T], kind: str = "uvloop") -> T:
    """Run ``main`` to completion on a new loop of ``kind`` (``uvloop`` or ``asyncio``).

    uvloop answers the same requests with noticeably less CPU; where it is not installed
    (Windows has no uvloop) asyncio's loop runs instead, with a warning.
    """
    if kind == "uvloop":
        try:
            import uvloop
        except ImportError:
            log.warning("uvloop is not installed: running on asyncio's event loop")
        else:
            return uvloop.run(main)
    return asyncio.run(main)
