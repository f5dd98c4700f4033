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
from typing import Any

import structlog

log = structlog.get_logger("workers")


def _worker(overrides: dict[str, Any], rest: bool, grpc: bool) -> None:
    # A fresh interpreter (spawn): settings and logging are set up again from the environment.
    from entrypoints.cli import load_settings
    from entrypoints.logging_setup import configure_logging
    from entrypoints.serve import run

    settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_format)
    try:
        asyncio.run(run(settings, rest=rest, grpc=grpc, reuse_port=True))
    except KeyboardInterrupt:
        sys.exit(130)


def run_workers(count: int, overrides: dict[str, Any], *, rest: bool, grpc: bool) -> int:
    """Start ``count`` workers and supervise them; return the exit code.

    SIGTERM/SIGINT are passed on to every worker, which shuts down gracefully. If a worker
    dies on its own, the others are stopped too and the exit code says so: an orchestrator
    restarts the whole service rather than run it short-handed without knowing.
    """
    context = multiprocessing.get_context("spawn")  # grpc does not survive fork
    workers = [
        context.Process(target=_worker, args=(overrides, rest, grpc), name=f"worker-{i}", daemon=False)
        for i in range(count)
    ]
    stopping = False

    def pass_on(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for worker in workers:
            if worker.is_alive() and worker.pid is not None:
                try:
                    os.kill(worker.pid, signum)
                except ProcessLookupError:
                    pass  # it just exited

    signal.signal(signal.SIGTERM, pass_on)
    signal.signal(signal.SIGINT, pass_on)
    for worker in workers:
        worker.start()
    log.info("workers started", count=count, pids=[w.pid for w in workers])
    exit_code = 0
    while any(worker.is_alive() for worker in workers):
        for worker in workers:
            worker.join(timeout=0.5)
            if not worker.is_alive() and worker.exitcode not in (0, None) and not stopping:
                log.error("worker died, stopping the others", worker=worker.name, exit_code=worker.exitcode)
                exit_code = 1
                pass_on(signal.SIGTERM, None)
    return exit_code
