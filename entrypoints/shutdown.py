"""The shutdown of one process: a timeline derived from SHUTDOWN_GRACE, and what the edges observe.

On SIGTERM the process *drains*: the servers stop accepting, long-lived streams end cleanly
(gRPC StreamPrices and Health.Watch with status OK; the WebSocket close 1001 and the SSE end
of the live streams watch the same ``draining`` event), and in-flight requests keep running.
Shortly before the grace is spent comes the *cut*: requests still running are answered
"unavailable, retry" (REST 503 SERVICE_UNAVAILABLE with Retry-After, gRPC UNAVAILABLE) instead
of being dropped without a reply. Then the servers and the resources close and the process
exits. The timeline, in seconds after the signal (``grace`` = SHUTDOWN_GRACE)::

    0                 draining: no new connections, streams end, in-flight requests run on
    grace - 0.5       the cut (at half the grace when the grace is under a second)
    grace             servers closed; whatever still runs is abandoned
    grace + 0.25      resources (HTTP session, Redis, sandbox upstream) closed, or abandoned
    grace + 0.5       a process still alive exits at once, with code 1 (the last resort; the
                      supervisor of ``serve --workers N`` kills such a worker at the same time)

which keeps the promise of ../shared/API.md: exited within SHUTDOWN_GRACE + 1 s.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

import structlog

log = structlog.get_logger("shutdown")

ANSWER_MARGIN = 0.5  # seconds before the grace ends when in-flight requests are answered "unavailable"
CLOSE_MARGIN = 0.25  # seconds past the grace the resources may take to close
HARD_STOP_MARGIN = 0.5  # seconds past the grace when a process still alive ends itself
KILL_MARGIN = 0.9  # seconds past the grace when a supervisor kills a worker still alive
RETRY_AFTER = 1  # seconds: another instance (or this one, restarted) answers a retry


@dataclass(frozen=True, slots=True)
class ShutdownTimeline:
    """When each step of the shutdown happens, in seconds after the signal."""

    grace: float

    @property
    def cut_after(self) -> float:
        """In-flight requests still running now are answered "unavailable"."""
        return self.grace - min(ANSWER_MARGIN, self.grace / 2)

    @property
    def servers_by(self) -> float:
        """The servers are closed by now; what still runs is abandoned."""
        return self.grace

    @property
    def resources_by(self) -> float:
        """The container's resources (and a sandbox upstream) are closed by now."""
        return self.grace + CLOSE_MARGIN

    @property
    def hard_stop_after(self) -> float:
        """A process still alive now is stuck: it ends itself."""
        return self.grace + HARD_STOP_MARGIN

    @property
    def kill_after(self) -> float:
        """A worker still alive now did not even manage that: its supervisor kills it. Later
        than ``hard_stop_after`` so a worker's own exit (and its last log lines) comes first,
        and still inside the grace + 1 s the whole process tree has."""
        return self.grace + KILL_MARGIN


class ShuttingDown(Exception):
    """The answer to a request the shutdown cut: this instance is going away, retry."""

    code = "SERVICE_UNAVAILABLE"
    retry_after = RETRY_AFTER

    def __init__(self) -> None:
        super().__init__("the server is shutting down; retry the request")


class ShutdownCoordinator:
    """One process's shutdown, shared by its servers and edges.

    ``draining`` is set when the shutdown begins: streams end, new work is not taken. The cut
    follows ``timeline.cut_after`` seconds later by itself: it cancels the tasks registered with
    :meth:`enter` (gRPC calls) and runs the :meth:`on_cut` callbacks (the REST server's, which
    cancels its in-flight handlers); an edge that sees the cancellation asks
    :meth:`absorb_cut` whether to answer "unavailable" instead of dropping the request.
    """

    def __init__(self, grace: float, *, hard_stop: bool = False) -> None:
        """``hard_stop``: end the whole process if it outlives ``timeline.hard_stop_after``
        (only for a process of its own, as ``crypto-data-engine serve`` runs; never in tests)."""
        self.timeline = ShutdownTimeline(grace)
        self.draining = asyncio.Event()
        self._hard_stop = hard_stop
        self._began: float | None = None
        self._cut = False
        self._timer: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Task[object]] = set()
        self._on_cut: list[Callable[[], int]] = []

    @property
    def is_cut(self) -> bool:
        """True once in-flight requests are being answered "unavailable"."""
        return self._cut

    def begin(self) -> None:
        """Start draining now and schedule the cut; later calls change nothing."""
        if self._began is not None:
            return
        loop = asyncio.get_running_loop()
        self._began = loop.time()
        self.draining.set()
        self._timer = loop.call_at(self._began + self.timeline.cut_after, self.cut)
        if self._hard_stop:
            watchdog = threading.Timer(self.timeline.hard_stop_after, _hard_stop, (self.timeline.grace,))
            watchdog.daemon = True
            watchdog.start()

    def seconds_until(self, moment: float) -> float:
        """Seconds from now until ``moment`` of the timeline (0 once past it)."""
        if self._began is None:
            return moment
        return max(0.0, self._began + moment - asyncio.get_running_loop().time())

    def cut(self) -> None:
        """Answer whatever still runs "unavailable" now (normally the timer calls this)."""
        if self._cut:
            return
        self._cut = True
        if self._timer is not None:
            self._timer.cancel()
        cancelled = len(self._running)
        for task in list(self._running):
            task.cancel()
        for callback in self._on_cut:
            cancelled += callback()
        if cancelled:
            log.warning(
                "grace nearly spent: answering in-flight requests 503/UNAVAILABLE", requests=cancelled
            )

    def on_cut(self, callback: Callable[[], int]) -> None:
        """Call ``callback`` at the cut: a server cancelling its own in-flight handlers,
        returning how many it cancelled."""
        self._on_cut.append(callback)

    def enter(self) -> asyncio.Task[object] | None:
        """Register the current task as an in-flight call: the cut cancels it. Pair with :meth:`leave`."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        return task

    def leave(self, task: asyncio.Task[object] | None) -> None:
        """The call registered by :meth:`enter` has ended."""
        if task is not None:
            self._running.discard(task)

    def absorb_cut(self) -> bool:
        """In an edge's ``except CancelledError``: True when the cancellation is the cut's.

        The current task's cancellation is then undone, so the edge can still send its
        "unavailable" answer; otherwise (a client that went away, a task being torn down)
        the caller re-raises.
        """
        if not self._cut:
            return False
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        return True


def exit_now(code: int) -> NoReturn:
    """End the process at once with ``code``, its output flushed, skipping the interpreter's
    own teardown.

    For a process of its own whose graceful shutdown has closed everything already: tearing
    down this many modules (grpc, pydantic, aiohttp, ...) takes another 0.3 s, and over a
    second on a busy machine, which the SHUTDOWN_GRACE promise has no room for.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a broken pipe: nothing more can be said
            pass
    os._exit(code)


def _hard_stop(grace: float) -> None:
    """The last resort, on a watchdog thread: something ignored the shutdown.

    The line goes straight to file descriptor 2, never blocking: the stuck main thread may
    hold the stderr stream's lock, or be blocked writing to a pipe nobody reads, and the exit
    must happen whatever becomes of the line.
    """
    line = f'{{"event":"shutdown overran SHUTDOWN_GRACE: exiting now","level":"error","grace":{grace}}}\n'
    try:
        os.set_blocking(2, False)
        os.write(2, line.encode())
    except OSError:  # a full pipe or a closed descriptor: exit without the line
        pass
    os._exit(1)
