"""The processes of a benchmark run: spawned, watched and always cleaned up.

Every child is started in its own session with ``PR_SET_PDEATHSIG``: if the suite itself
is killed (even with SIGKILL) the kernel kills its children, and ``ProcessSet.close`` stops
whatever is left of each child's process tree on a normal exit, an error or Ctrl-C.
"""

from __future__ import annotations

import ctypes
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

#: The repository root: load and baseline processes run ``python -m tests.benchmarks...`` from it.
REPO_ROOT = Path(__file__).resolve().parents[2]
_PR_SET_PDEATHSIG = 1
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


_handed_out: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, never one handed out before.

    Not a port-0 pick: the kernel takes those from the ephemeral range, where the source port
    of any outgoing connection (the load generator's, say) may grab it before the server
    binds. A random port below that range, checked by binding it, cannot collide that way.
    """
    low, _ = _ephemeral_range()
    for _ in range(200):
        port = random.randint(max(1024, low - 12000), low - 1) if low > 2048 else 0
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            port = int(probe.getsockname()[1])
        _handed_out.add(port)
        return port
    raise RuntimeError("no free TCP port found")


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass  # not Linux: ProcessSet.close still cleans up on every ordinary exit


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name is in parentheses and may contain spaces: split after the last ')'
    return raw[raw.rindex(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time used so far by ``pids``."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _CLOCK_TICKS


def rss_kib(pid: int, field_name: str = "VmRSS") -> int:
    """A memory figure of ``pid`` from /proc/<pid>/status, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field_name} for pid {pid}")


def wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Until something accepts TCP connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@dataclass
class Child:
    """One spawned process, its name and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path | None

    @property
    def pid(self) -> int:
        """The pid of the spawned process."""
        return self.process.pid

    def tree(self) -> list[int]:
        """The pids of this process and of its descendants (e.g. ``--workers`` children)."""
        return [pid for pid in descendants(self.pid) if alive(pid)]

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of its log, for error messages."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class ProcessSet:
    """Owns every process the suite starts; ``close`` (or leaving the ``with``) stops them all."""

    log_dir: Path
    children: list[Child] = field(default_factory=list)
    seen_pids: set[int] = field(default_factory=set)

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        log: bool = True,
        stdout_pipe: bool = False,
    ) -> Child:
        """Start ``argv``; stderr (and stdout unless piped) go to ``log_dir/<name>.log``."""
        log_path = self.log_dir / f"{name}.log" if log else None
        sink = open(log_path, "ab") if log_path is not None else subprocess.DEVNULL  # noqa: SIM115
        try:
            process = subprocess.Popen(
                list(argv),
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if stdout_pipe else sink,
                stderr=sink,
                start_new_session=True,  # Ctrl-C in the terminal reaches only the suite
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - no thread of the suite is alive when it spawns
            )
        finally:
            if log_path is not None:
                sink.close()  # type: ignore[union-attr]
        child = Child(name, process, log_path)
        self.children.append(child)
        self.seen_pids.add(process.pid)
        return child

    def stop(self, child: Child, grace: float = 5.0) -> None:
        """SIGTERM the child (a supervisor passes it on), SIGKILL whatever is left of its
        tree after ``grace`` seconds."""
        tree = child.tree()
        self.seen_pids.update(tree)
        _signal(child.pid, signal.SIGTERM)
        try:
            child.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + grace
        while any(alive(pid) for pid in tree) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in tree:
            if alive(pid):
                _signal(pid, signal.SIGKILL)
        if child.process.poll() is None:
            child.process.kill()
        child.process.wait()
        if child.process.stdout is not None:
            child.process.stdout.close()
        if child in self.children:
            self.children.remove(child)

    def close(self) -> None:
        """Stop every child still running, newest first."""
        for child in reversed(list(self.children)):
            self.stop(child, grace=3.0)

    def leftovers(self) -> list[int]:
        """Pids this set started (or saw in a child's tree) that are still alive."""
        return sorted(pid for pid in self.seen_pids if alive(pid))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
