"""Bench servers: the fake as ``piapi-mock serve`` runs it, and the bare baseline, each pinned.

Both run on the same uvicorn stack (:func:`mock_server.server.uvicorn_options`), each in its own
process on a free 127.0.0.1 port, pinned with ``taskset`` to the server core(s) while ``wrk``
gets the other core (:func:`pinning`). Every server is stopped however the run ends, with its
whole process group (``--workers N`` forks children).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Final, NamedTuple

from mock_server.ports import free_port

ROOT: Final = Path(__file__).resolve().parent.parent
READY_TIMEOUT: Final = 30.0
SERVER_CPUS_ENV: Final = "PIAPI_BENCH_SERVER_CPUS"
WRK_CPUS_ENV: Final = "PIAPI_BENCH_WRK_CPUS"


class Server(NamedTuple):
    """A running bench server (``pid``: the process uvicorn runs in, or its supervisor)."""

    port: int
    pid: int


class Pinning(NamedTuple):
    """Which CPUs the servers and wrk run on ("" when not pinned)."""

    server: str
    wrk: str

    def prefix(self, cpus: str) -> list[str]:
        """``taskset -c CPUS`` (or nothing when not pinned)."""
        return ["taskset", "-c", cpus] if cpus else []

    def describe(self) -> str:
        """A line for the report."""
        if not self.server:
            return "not pinned (needs taskset and 2 CPUs)"
        return f"server on CPU {self.server}, wrk on CPU {self.wrk} (taskset)"


def pinning() -> Pinning:
    """The server on the first allowed CPU and wrk on the second (or the environment's choice)."""
    server, wrk = os.environ.get(SERVER_CPUS_ENV), os.environ.get(WRK_CPUS_ENV)
    if server is not None and wrk is not None:
        return Pinning(server, wrk)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) < 2 or shutil.which("taskset") is None:
        return Pinning("", "")
    return Pinning(str(cpus[0]), str(cpus[1]))


def fake_command(port: int, flags: Sequence[str] = ()) -> list[str]:
    """``piapi-mock serve`` at ``--speed 1000`` (renders end ~0.1 s after they start)."""
    command = [sys.executable, "-m", "mock_server.cli", "serve", "--port", str(port)]
    return [*command, "--speed", "1000", "--seed", "1", *flags]


def bare_command(port: int, create_bytes: int, get_bytes: int) -> list[str]:
    """The bare Starlette baseline on the same uvicorn stack."""
    sizes = ["--create-bytes", str(create_bytes), "--get-bytes", str(get_bytes)]
    return [sys.executable, "-m", "bench.bare_app", "--port", str(port), *sizes]


@contextmanager
def started(command: list[str], port: int, cpus: str = "") -> Iterator[Server]:
    """Run ``command`` (listening on ``port``), pinned to ``cpus``; yield it, always stop it."""
    full = (["taskset", "-c", cpus] if cpus else []) + command
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            full, cwd=ROOT, stdout=log, stderr=log, start_new_session=True, env=dict(os.environ)
        )
        try:
            _wait_ready(process, port, log)
            yield Server(port, process.pid)
        finally:
            stop(process)


@contextmanager
def fake_server(flags: Sequence[str] = (), cpus: str = "") -> Iterator[Server]:
    """The fake as ``serve`` runs it (``flags`` added: ``--store URL``, ``--workers 2``...)."""
    port = free_port()
    with started(fake_command(port, flags), port, cpus) as server:
        yield server


@contextmanager
def bare_server(create_bytes: int, get_bytes: int, cpus: str = "") -> Iterator[Server]:
    """The bare baseline answering bodies of the given sizes."""
    port = free_port()
    with started(bare_command(port, create_bytes, get_bytes), port, cpus) as server:
        yield server


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"server exited with {process.returncode}: {log.read().decode()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} not ready after {READY_TIMEOUT} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop ``process`` and its process group (its own session): TERM, then KILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError, PermissionError):  # workers left behind
        os.killpg(process.pid, signal.SIGKILL)


def rss_kb(pid: int) -> int:
    """Resident set of ``pid`` and its children (``VmRSS``, kB; 0 where /proc is missing)."""
    total = 0
    for one in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{one}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its live children so far (0 where /proc is missing)."""
    total = 0.0
    for one in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (taskset execs in place; ``--workers`` forks)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            text = Path(f"/proc/{parent}/task/{parent}/children").read_text()
        except OSError:
            continue
        kids = [int(part) for part in text.split()]
        found += kids
        todo += kids
    return found
