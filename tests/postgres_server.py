"""A throwaway PostgreSQL server on a free loopback port, for the tests that need one.

``initdb`` makes a cluster in a temporary directory and ``postgres`` serves it on 127.0.0.1
(no fsync: the data dies with the run). PostgreSQL refuses to run as root, so under root both
run as the ``postgres`` account the apt package creates (or ``nobody``), owning the directory.
The server is stopped by its pid, never by name.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from tests.redis_server import free_port

_UNPRIVILEGED = ("postgres", "nobody")


def postgres_bindir() -> str | None:
    """The directory holding ``initdb`` and ``postgres``: on PATH, in /usr/local/bin, or
    Debian's /usr/lib/postgresql/<version>/bin (the newest), if installed."""
    candidates = [os.path.dirname(found) for found in [shutil.which("initdb")] if found]
    candidates.append("/usr/local/bin")
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    for directory in candidates:
        if all(os.access(os.path.join(directory, tool), os.X_OK) for tool in ("initdb", "postgres")):
            # /usr/local/bin may hold links only: the real directory also has pg_isready.
            return os.path.dirname(os.path.realpath(os.path.join(directory, "initdb")))
    return None


def _version(path: str) -> float:
    try:
        return float(path.split("/")[-2])
    except ValueError:
        return 0.0


def _run_as() -> pwd.struct_passwd | None:
    """The account to run as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in _UNPRIVILEGED:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged account (postgres, nobody) to run PostgreSQL as")


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in a temporary directory, served on 127.0.0.1 with trust auth."""

    bindir: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    directory: str | None = None

    @property
    def dsn(self) -> str:
        """The URL of its ``postgres`` database as the ``postgres`` superuser."""
        return self.dsn_for("postgres")

    def dsn_for(self, database: str) -> str:
        """The URL of ``database`` on it."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Make the cluster and start the server; wait until it accepts connections."""
        account = _run_as()
        self.directory = tempfile.mkdtemp(prefix="cde-postgres-")
        data = os.path.join(self.directory, "data")
        user: dict[str, Any] = {}
        if account is not None:
            os.chown(self.directory, account.pw_uid, account.pw_gid)
            user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        subprocess.run(
            [os.path.join(self.bindir, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
             "--no-sync", "-E", "UTF8", "--locale=C"],  # fmt: skip
            check=True, capture_output=True, cwd=self.directory, **user,
        )  # fmt: skip
        self.process = subprocess.Popen(
            [os.path.join(self.bindir, "postgres"), "-D", data, "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.directory}",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],  # fmt: skip
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.directory, **user,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self._accepts():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"postgres did not start on port {self.port}")

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                pass
        except OSError:
            return False
        # The port opens before recovery ends: ask the server itself.
        ready = subprocess.run(
            [os.path.join(self.bindir, "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
            capture_output=True,
        ) if os.access(os.path.join(self.bindir, "pg_isready"), os.X_OK) else None  # fmt: skip
        return ready is None or ready.returncode == 0

    def create_database(self, name: str) -> str:
        """Create an empty database ``name``; return its URL."""
        self._client("createdb", name)
        return self.dsn_for(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing whatever connections are still open to it."""
        self._client("dropdb", "--force", "--if-exists", name)

    def _client(self, tool: str, *args: str) -> None:
        connection = ("-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres")
        subprocess.run([os.path.join(self.bindir, tool), *connection, *args], check=True, capture_output=True)

    def stop(self) -> None:
        """Stop it by its pid (a fast shutdown, then a kill) and remove its directory."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
            self.process = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
