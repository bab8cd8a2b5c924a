"""A throwaway PostgreSQL cluster a test owns: ``initdb`` + ``pg_ctl`` on a free port.

The shared server at 127.0.0.1:5432 must never be frozen or stopped by a test; a cluster of
its own can be: ``freeze()`` sends SIGSTOP to the postmaster and every backend (a hung
database: connections open, nothing answers), ``thaw()`` SIGCONT, ``stop()`` shuts it down
(a dead database: connections refused) and ``start()`` brings it back on the same port.

PostgreSQL refuses to run as root, so the cluster runs as the ``postgres`` user when the
test runs as root (``runuser``), as the test's own user otherwise. PostGIS's extension files
belong to the installation, not to a cluster: ``CREATE EXTENSION postgis`` works here too.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from tests.conftest import _free_port

VERSIONS = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)


def available() -> str | None:
    """Why no throwaway cluster can be made here, or ``None``."""
    if not VERSIONS:
        return "no PostgreSQL server binaries under /usr/lib/postgresql"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


class Cluster:
    def __init__(self, root: Path) -> None:
        self.bin = VERSIONS[0].parent
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    @property
    def admin_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        if self.user is not None:
            shutil.chown(self.root, self.user)
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--no-sync", "--no-instructions",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=40"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        """Shut down at once, as a crash or an operator's immediate stop would."""
        self.thaw()
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def _processes(self) -> list[psutil.Process]:
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return []
        postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
        return [postmaster, *postmaster.children(recursive=True)]

    def freeze(self) -> None:
        """SIGSTOP every process of the cluster: sockets stay open, nothing answers."""
        for proc in self._processes():  # the postmaster first: it forks no new backend
            proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        for proc in self._processes():
            proc.send_signal(signal.SIGCONT)


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="rm-pg-"))
    cluster = Cluster(root)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        try:
            if (cluster.data / "postmaster.pid").exists():
                cluster.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
