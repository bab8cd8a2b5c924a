"""Uvicorn in a subprocess on a free port, polled until ``/healthz`` answers, always stopped."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx2
import psutil

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def uvicorn_server(
    app: str,
    *,
    log_path: Path,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    app_dir: Path = REPO,
) -> Iterator[str]:
    """Serve ``module:attribute`` with one worker on ``port`` (default: a free one); yield
    its base URL and stop it on exit, however the block ends."""
    port = free_port() if port is None else port
    command = [
        *(sys.executable, "-m", "uvicorn", app, "--app-dir", str(app_dir.resolve())),
        *("--host", HOST, "--port", str(port), "--workers", "1"),
        *("--log-level", "warning", "--no-access-log"),
    ]
    with log_path.open("wb") as log:
        # Own session: Ctrl-C reaches only us, and we stop the server in order below.
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base_url = f"http://{HOST}:{port}"
        _wait_healthy(base_url, process, log_path)
        yield base_url
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    with httpx2.Client(base_url=base_url, timeout=5.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"server exited with {process.returncode}:\n{tail}")
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"{base_url}/healthz did not answer within {STARTUP_TIMEOUT_S:.0f} s")


def app_server(
    database: Path,
    *,
    port: int,
    log_path: Path,
    src: str | None = None,
    env: Mapping[str, str] | None = None,
) -> AbstractContextManager[str]:
    """The app (one worker) on the SQLite ``database``, at a Tuesday 10:00 in Shanghai;
    with ``src``, the code of an earlier checkout there (``git worktree add``)."""
    settings = {
        "RESOURCEMAP_DATABASE_URL": f"sqlite://{database}",
        "RESOURCEMAP_PORT": str(port),
        "RESOURCEMAP_LOG_LEVEL": "warning",
        "RESOURCEMAP_FIXED_NOW": "2026-12-01T10:00:00+08:00",
        **(env or {}),
    }
    app_dir = REPO
    if src:
        # uvicorn puts --app-dir first on the path: the earlier checkout's, then.
        settings["PYTHONPATH"] = os.pathsep.join([src, str(BENCH)])
        app_dir = Path(src)
    return uvicorn_server(
        "web.asgi:app", port=port, env=settings, log_path=log_path, app_dir=app_dir
    )


def server_process(port: int) -> psutil.Process:
    """The uvicorn process listening on ``port``."""
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if "uvicorn" in command and str(port) in command:
            return process
    raise RuntimeError(f"no server on port {port}")
