"""``serve --workers N``: N worker processes sharing the same ports (SO_REUSEPORT).

The kernel spreads incoming connections over the workers, so one machine's cores are used.
Each worker has its own container: with CACHE_BACKEND=memory each keeps its own cache,
circuits and limits; with redis they share them. In sandbox mode the supervisor runs the
one simulated upstream every worker calls (see ``entrypoints.sandbox.UpstreamThread``).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import structlog

from adapters.metrics import MULTIPROCESS_ENV, mark_process_dead
from entrypoints import event_loop
from entrypoints.bootstrap import boot
from entrypoints.sandbox import UpstreamThread
from entrypoints.serve import run
from entrypoints.shutdown import ShutdownTimeline, exit_now

log = structlog.get_logger("workers")
_PARENT_CHECK = 1.0
_WAKE = 0.2  # seconds between the supervisor's looks at its workers when nothing happens


def _worker(
    overrides: dict[str, Any], rest: bool, grpc: bool, sandbox_upstream: dict[str, str] | None = None
) -> None:
    # A fresh interpreter (spawn): settings and logging are set up again from the environment.
    settings = boot(overrides)
    parent = os.getppid()

    async def serve() -> None:
        stopping = asyncio.Event()

        async def stop_when_orphaned() -> None:
            # A supervisor killed with SIGKILL cannot pass anything on; without this check the
            # workers would keep the ports (shared through SO_REUSEPORT) with a restarted one.
            while not stopping.is_set():
                if os.getppid() != parent:
                    log.error("supervisor gone, stopping")
                    stopping.set()
                await asyncio.sleep(_PARENT_CHECK)

        watcher = asyncio.create_task(stop_when_orphaned())
        try:
            await run(
                settings, rest=rest, grpc=grpc, reuse_port=True, stopping=stopping,
                sandbox_upstream=sandbox_upstream, hard_stop=True,
            )  # fmt: skip
        finally:
            watcher.cancel()
        # Everything is closed: exit here, before the event loop's own teardown, which waits
        # without limit for executor threads (a resolver lookup, say).
        exit_now(0)

    try:
        event_loop.run(serve(), settings.event_loop)
    except KeyboardInterrupt:
        sys.exit(130)
    exit_now(0)  # everything is closed: no slow teardown eating into SHUTDOWN_GRACE


def run_workers(
    count: int,
    overrides: dict[str, Any],
    *,
    rest: bool,
    grpc: bool,
    grace: float,
    sandbox_seed: int | None = None,
) -> int:
    """Start ``count`` workers and supervise them; return the exit code.

    SIGTERM/SIGINT are passed on to every worker, which shuts down gracefully on the timeline
    of ``entrypoints.shutdown``; one still alive at its ``hard_stop_after`` (half a second
    past ``grace``) is killed, so the whole process tree is gone within ``grace`` + 1 s. A
    worker that exits on its own stops the others and makes the exit code 1: an orchestrator
    restarts the whole service rather than run it short-handed without knowing. So does a
    worker that fails while stopping, or has to be killed.

    The workers write their metrics to one directory (``PROMETHEUS_MULTIPROC_DIR``, a fresh
    temporary one unless the operator set it), so whichever worker answers a scrape of
    /metrics reports the whole service.

    With ``sandbox_seed`` (sandbox mode) the supervisor starts the simulated upstream before
    the workers, points every worker at it and stops it after the last one has exited.
    """
    own_metrics_dir = not os.environ.get(MULTIPROCESS_ENV)
    if own_metrics_dir:
        os.environ[MULTIPROCESS_ENV] = tempfile.mkdtemp(prefix="crypto-data-engine-metrics-")
    else:  # the operator's: a previous run's values would be counted again
        for stale in Path(os.environ[MULTIPROCESS_ENV]).glob("*.db"):
            stale.unlink(missing_ok=True)
    try:
        with _sandbox_upstream(sandbox_seed) as sandbox_upstream:
            return _supervise(
                count, overrides, rest=rest, grpc=grpc, grace=grace, sandbox_upstream=sandbox_upstream
            )
    finally:
        if own_metrics_dir:
            shutil.rmtree(os.environ.pop(MULTIPROCESS_ENV), ignore_errors=True)


@contextlib.contextmanager
def _sandbox_upstream(seed: int | None) -> Iterator[dict[str, str] | None]:
    """In sandbox mode, the one simulator all workers call (its base URL per provider)."""
    if seed is None:
        yield None
        return
    upstream = UpstreamThread(seed)
    simulator = upstream.start()
    log.warning("sandbox mode: every worker calls one simulated upstream", upstream=simulator.root, seed=seed)
    try:
        yield simulator.base_urls
    finally:
        upstream.stop()


def _supervise(
    count: int,
    overrides: dict[str, Any],
    *,
    rest: bool,
    grpc: bool,
    grace: float,
    sandbox_upstream: dict[str, str] | None = None,
) -> int:
    context = multiprocessing.get_context("spawn")  # grpc does not survive fork
    workers: list[BaseProcess] = [
        context.Process(
            target=_worker, args=(overrides, rest, grpc, sandbox_upstream), name=f"worker-{i}", daemon=False
        )
        for i in range(count)
    ]
    stopping = False
    stopped_at = 0.0  # when ``stopping`` became true: the workers' shutdown began then
    failed = False
    kill_at: float | None = None

    def signal_all(signum: int) -> None:
        for worker in workers:
            if worker.pid is not None and worker.is_alive():
                try:
                    os.kill(worker.pid, signum)
                except ProcessLookupError:
                    pass  # it just exited

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping, stopped_at
        if not stopping:
            stopped_at = time.monotonic()
        stopping = True
        signal_all(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for worker in workers:
        worker.start()
    if stopping:  # a signal arrived while workers were being started: some missed it
        signal_all(signal.SIGTERM)
    log.info("workers started", count=count, pids=[w.pid for w in workers])
    reported: set[str] = set()
    kill_after = ShutdownTimeline(grace).kill_after
    while any(worker.is_alive() for worker in workers):
        # Wakes at once when a worker exits, or when a signal arrives (the handler runs, and
        # the wait resumes: at most _WAKE later the loop sees ``stopping``).
        wait = _WAKE if kill_at is None else min(_WAKE, max(0.0, kill_at - time.monotonic()))
        multiprocessing.connection.wait([w.sentinel for w in workers if w.is_alive()], timeout=wait)
        for worker in workers:
            if worker.is_alive() or worker.name in reported:
                continue
            reported.add(worker.name)
            if worker.pid is not None:
                mark_process_dead(worker.pid)
            if worker.exitcode != 0:
                failed = True
            if not stopping:
                log.error("worker exited on its own, stopping the others",
                          worker=worker.name, exit_code=worker.exitcode)  # fmt: skip
                failed = stopping = True
                stopped_at = time.monotonic()
                signal_all(signal.SIGTERM)
        if stopping and kill_at is None:
            kill_at = stopped_at + kill_after
        if kill_at is not None and time.monotonic() >= kill_at:
            log.error("workers did not stop in time, killing them")
            signal_all(signal.SIGKILL)
            failed = True
            kill_at = float("inf")
    return 1 if failed else 0
