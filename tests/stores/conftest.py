"""Real stores for the store tests: a real ``redis-server`` on a free loopback port (started
once per test session, killed at the end) and SQLite files in a temporary folder.

``redis-server`` missing is a test *failure*, never a skip: ``make system-deps`` (which
``.ci/run`` calls) installs Debian's package.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from mock_server.domain.store import TaskStore
from mock_server.ports import free_port
from mock_server.stores import open_store

#: How long redis-server may take to answer PING (a bounded wait, never a sleep in a test).
READY_BUDGET_S = 15.0
#: Nothing written to disk: no RDB snapshots, no append-only file.
NO_DISK = ("--save", "", "--appendonly", "no")


class RedisServer:
    """A ``redis-server`` child process with no persistence, on 127.0.0.1."""

    def __init__(self, executable: str) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [*(executable, "--port", str(self.port), "--bind", "127.0.0.1"), *NO_DISK],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + READY_BUDGET_S
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self.process.returncode}")
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    time.sleep(0.02)
        finally:
            client.close()
        self.stop()
        raise RuntimeError("redis-server did not answer PING in time")

    def namespaced(self) -> str:
        """A URL of a fresh key namespace (tests never see each other's keys)."""
        return f"{self.url}?namespace=t{uuid.uuid4().hex[:12]}"

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server for the whole session (fails, not skips, if it is not installed)."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.fail("redis-server is not installed: run `make system-deps` (Debian redis-server)")
    server = RedisServer(executable)
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """A fresh namespace on the session's redis-server."""
    return redis_server.namespaced()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in the test's temporary folder."""
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store_url(request: pytest.FixtureRequest) -> str:
    """Each store in turn."""
    if request.param == "memory":
        return "memory://"
    fixture = "sqlite_url" if request.param == "sqlite" else "redis_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[TaskStore]:
    """An open store of each kind."""
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "redis"])
def shared_url(request: pytest.FixtureRequest) -> str:
    """A shared store URL: a SQLite file, then the session's real Redis."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url
