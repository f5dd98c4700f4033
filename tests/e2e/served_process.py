"""``crypto-data-engine serve`` as a real child process, for the tests that signal it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from simulator import UpstreamSimulator
from tests.e2e.test_grpc_serve import _environment


class ServedProcess:
    """One ``serve`` process whose log (stderr, JSON lines) goes to a file the test reads."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log
        self.signalled_at: float | None = None

    @classmethod
    async def start(
        cls, simulator: UpstreamSimulator, tmp_path: Path, *args: str, **env: str
    ) -> ServedProcess:
        """Start ``serve`` with ``args`` against ``simulator``; ``env`` on top of the test environment."""
        log = tmp_path / "serve.log"
        with log.open("wb") as stderr:  # the child keeps its own descriptor
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "entrypoints.cli", "serve", "--host", "127.0.0.1", *args,
                cwd=tmp_path, env={**_environment(simulator), **env}, stderr=stderr,
            )  # fmt: skip
        return cls(process, log)

    def lines(self) -> list[dict[str, Any]]:
        """Every JSON line logged so far."""
        text = self.log.read_text(errors="replace")
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    async def port(self, event: str) -> int:
        """The port of the first ``event`` line ("rest listening", "grpc listening")."""
        while True:
            for line in self.lines():
                if line.get("event") == event:
                    return int(line["port"])
            if self.process.returncode is not None:
                raise AssertionError(f"serve exited ({self.process.returncode}) before logging {event!r}")
            await asyncio.sleep(0.05)

    def terminate(self) -> None:
        """Send SIGTERM and note when."""
        self.signalled_at = time.monotonic()
        self.process.send_signal(signal.SIGTERM)

    def since_signal(self) -> float:
        """Seconds since ``terminate``."""
        assert self.signalled_at is not None
        return time.monotonic() - self.signalled_at

    async def exit(self) -> tuple[int, float]:
        """Wait for the exit: its code and the seconds since SIGTERM."""
        code = await self.process.wait()
        return code, self.since_signal()

    async def kill(self) -> None:
        """Clean-up: kill the process if it is still running."""
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    def access_statuses(self, event: str) -> dict[str, Any]:
        """``request_id`` → ``status`` of the access-log lines of ``event`` ("request", "rpc")."""
        return {line["request_id"]: line["status"] for line in self.lines() if line.get("event") == event}


async def until(condition: Any, timeout: float = 30) -> None:
    """Poll ``condition()`` until true."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"still not true after {timeout} s: {condition.__doc__ or condition}") from None


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie waiting for its parent does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
