"""``serve`` raises the soft file-descriptor limit to the hard one at start and logs both,
with the split into connections served and the reserve."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from simulator import UpstreamSimulator
from tests.e2e.test_grpc_serve import _environment

resource = pytest.importorskip("resource")  # not on Windows

LOWERED = 200


def _lower_soft_limit() -> None:  # in the child, before it runs the service
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOWERED, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


async def _lines_until(stderr: asyncio.StreamReader, event: str) -> list[dict[str, Any]]:
    lines = []
    async for raw in stderr:
        if raw.startswith(b"{"):
            lines.append(json.loads(raw))
            if lines[-1]["event"] == event:
                return lines
    raise AssertionError(f"the process ended before logging {event!r}")


async def test_serve_raises_the_soft_file_limit_and_logs_it(
    simulator: UpstreamSimulator, tmp_path: Path
) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    raised = hard if hard != resource.RLIM_INFINITY else 1 << 20
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "entrypoints.cli", "serve", "--rest-only", "--host", "127.0.0.1", "--port", "0",
        cwd=tmp_path, env=_environment(simulator), stderr=asyncio.subprocess.PIPE,
        preexec_fn=_lower_soft_limit,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        async with asyncio.timeout(60):
            lines = await _lines_until(process.stderr, "rest listening")
            limits = Path(f"/proc/{process.pid}/limits").read_text()
            process.send_signal(signal.SIGTERM)
            await process.stderr.read()
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    soft = next(line for line in limits.splitlines() if line.startswith("Max open files")).split()[3]
    assert int(soft) == raised  # as the kernel has it
    [line] = [line for line in lines if line["event"] == "file limit"]
    assert (line["level"], line["soft_before"], line["soft"], line["hard"]) == ("info", LOWERED, raised, hard)
    assert line["served"] + line["reserve"] == raised
    assert line["reserve"] == min(line["open_at_start"] + 256 + 128 + 64, raised // 2)
    assert line["per_client"] == 256
