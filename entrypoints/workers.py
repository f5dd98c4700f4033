"""``serve --workers N``: N worker processes sharing the same ports (SO_REUSEPORT).

The kernel spreads incoming connections over the workers, so one machine's cores are used.
Each worker has its own container: with CACHE_BACKEND=memory each keeps its own cache,
circuits and limits; with redis they share them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
import time
from multiprocessing.process import BaseProcess
from typing import Any

import structlog

log = structlog.get_logger("workers")
_KILL_MARGIN = 5.0  # seconds past SHUTDOWN_GRACE before a worker that will not stop is killed
_PARENT_CHECK = 1.0


def _worker(overrides: dict[str, Any], rest: bool, grpc: bool) -> None:
    # A fresh interpreter (spawn): settings and logging are set up again from the environment.
    from entrypoints.cli import load_settings
    from entrypoints.logging_setup import configure_logging
    from entrypoints.serve import run

    settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_format)
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
            await run(settings, rest=rest, grpc=grpc, reuse_port=True, stopping=stopping)
        finally:
            watcher.cancel()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(130)


def run_workers(count: int, overrides: dict[str, Any], *, rest: bool, grpc: bool, grace: float) -> int:
    """Start ``count`` workers and supervise them; return the exit code.

    SIGTERM/SIGINT are passed on to every worker, which shuts down gracefully; one that has
    not stopped ``grace`` seconds (plus a margin) later is killed. A worker that exits on its
    own stops the others and makes the exit code 1: an orchestrator restarts the whole
    service rather than run it short-handed without knowing. So does a worker that fails
    while stopping.
    """
    context = multiprocessing.get_context("spawn")  # grpc does not survive fork
    workers: list[BaseProcess] = [
        context.Process(target=_worker, args=(overrides, rest, grpc), name=f"worker-{i}", daemon=False)
        for i in range(count)
    ]
    stopping = False
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
        nonlocal stopping
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
    while any(worker.is_alive() for worker in workers):
        for worker in workers:
            worker.join(timeout=0.2)
        for worker in workers:
            if worker.is_alive() or worker.name in reported:
                continue
            reported.add(worker.name)
            if worker.exitcode != 0:
                failed = True
            if not stopping:
                log.error("worker exited on its own, stopping the others",
                          worker=worker.name, exit_code=worker.exitcode)  # fmt: skip
                failed = stopping = True
                signal_all(signal.SIGTERM)
        if stopping and kill_at is None:
            kill_at = time.monotonic() + grace + _KILL_MARGIN
        if kill_at is not None and time.monotonic() > kill_at:
            log.error("workers did not stop in time, killing them")
            signal_all(signal.SIGKILL)
            failed = True
            kill_at = float("inf")
    return 1 if failed else 0
