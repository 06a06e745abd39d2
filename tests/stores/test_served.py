"""Real ``piapi-mock serve`` processes on loopback ports sharing one real Redis (and one
SQLite file across a restart). Waits are bounded polls, never sleeps of a fixed length."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_server.ports import free_port
from tests.conftest import seed_request
from tests.stores.conftest import RedisServer
from tests.test_serve import Served as _Served

pytestmark = pytest.mark.socket

KEY = {"x-api-key": "store-key"}
#: Virtual time hardly flows by itself: only /_mock/clock/advance moves it.
FROZEN = ("--speed", "0.000001")


class Served(_Served):
    """``piapi-mock serve`` in a subprocess, ready once it answers (a loaded machine may take
    a while: a slow answer is waited for, bounded, like a refused connection)."""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                requests.get(self.url + "/openapi.json", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.05)
        output = self.stop()
        raise RuntimeError(f"server did not start: {output[-2000:]}")


def until(check: Callable[[], Any], budget: float = 15.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + budget
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def create(url: str, body: dict[str, Any] | None = None) -> str:
    response = requests.post(f"{url}/api/v1/task", json=body or seed_request(), headers=KEY)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["data"]["task_id"]
    return task_id


def status(url: str, task_id: str) -> str:
    response = requests.get(f"{url}/api/v1/task/{task_id}", headers=KEY, timeout=5)
    assert response.status_code == 200, response.text
    found: str = response.json()["data"]["status"]
    return found


@pytest.fixture
def two(redis_server: RedisServer) -> Iterator[tuple[Served, Served]]:
    """One single-process server and one with two workers, on one Redis namespace."""
    url = redis_server.namespaced()
    a = Served("--store", url, *FROZEN)
    try:
        b = Served("--store", url, "--workers", "2", *FROZEN)
    except BaseException:
        a.stop()
        raise
    yield a, b
    b.stop()
    a.stop()


def test_a_task_created_on_one_process_is_read_on_a_worker_of_another(
    two: tuple[Served, Served],
) -> None:
    a, b = two
    on_a = create(a.url)
    on_b = create(b.url)
    for _ in range(6):  # several connections: both of b's workers answer some
        with requests.Session() as session:
            got = session.get(f"{b.url}/api/v1/task/{on_a}", headers=KEY, timeout=5).json()
            assert got["data"]["task_id"] == on_a
    assert status(a.url, on_b) == "pending"
    health = requests.get(f"{b.url}/_mock/health", timeout=5).json()
    assert health["tasks"] == 2


def test_one_clock_advance_moves_every_process(two: tuple[Served, Served]) -> None:
    a, b = two
    tasks = [create(a.url), create(b.url)]
    assert [status(b.url, t) for t in tasks] == ["pending", "pending"]
    moved = requests.post(f"{a.url}/_mock/clock/advance", json={"seconds": 10_000}, timeout=5)
    assert moved.status_code == 200
    assert [status(b.url, t) for t in tasks] == ["completed", "completed"]
    assert [status(a.url, t) for t in tasks] == ["completed", "completed"]
    clock_a = requests.get(f"{a.url}/_mock/clock", timeout=5).json()["now"]
    clock_b = requests.get(f"{b.url}/_mock/clock", timeout=5).json()["now"]
    assert abs(clock_a - clock_b) < 1.0


def test_the_journal_is_one_across_processes(two: tuple[Served, Served]) -> None:
    a, b = two
    task_id = create(a.url)
    status(b.url, task_id)

    def both() -> list[tuple[str, str]]:  # written behind: within milliseconds
        calls = requests.get(f"{b.url}/_mock/journal", timeout=5).json()["calls"]
        found = [(c["method"], c["task_id"]) for c in calls]
        return found if len(found) >= 2 else []

    # In the order they reached the store (each process writes behind, in batches).
    assert sorted(until(both, what="both entries")) == [("GET", task_id), ("POST", task_id)]


class ReceiverProcess:
    """``python -m mock_server.webhooks.receiver`` on a free port; counts and distinct bodies."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mock_server.webhooks.receiver", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
        )
        until(self._up, what="the receiver")

    def _up(self) -> bool:
        try:
            self.counts()
        except requests.ConnectionError:
            return False
        return True

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = requests.get(
            f"http://127.0.0.1:{self.port}/_count", timeout=5
        ).json()
        return found

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def test_every_webhook_event_reaches_the_receiver_exactly_once(
    redis_server: RedisServer,
) -> None:
    """Both processes plan every task's three events; each event is sent by one of them."""
    url = redis_server.namespaced()
    receiver = ReceiverProcess()
    servers = [Served("--store", url, "--speed", "200") for _ in range(2)]
    try:
        body = seed_request()
        body["config"]["webhook_config"] = {"endpoint": receiver.url, "secret": ""}
        tasks = [create(servers[n % 2].url, body) for n in range(6)]
        expected = 3 * len(tasks)  # pending, processing, completed
        until(lambda: receiver.counts()["count"] >= expected, budget=30, what="every event")
        # A duplicate would come within a poll interval (0.05 s) of its twin: watch a while.
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            counts = receiver.counts()
            assert counts == {"count": expected, "distinct": expected}, counts
            time.sleep(0.05)
        log = requests.get(f"{servers[1].url}/_mock/webhooks", timeout=5).json()
        attempts = log.get("attempts", log.get("deliveries", []))
        assert sorted({a["task_id"] for a in attempts}) == sorted(tasks)
    finally:
        for server in servers:
            server.stop()
        receiver.stop()


def test_an_embedded_store_survives_a_restart_and_never_reuses_an_id(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'fake.db'}"
    first = Served("--store", store, "--seed", "5", *FROZEN)
    try:
        old = [create(first.url) for _ in range(3)]
        requests.post(f"{first.url}/_mock/clock/advance", json={"seconds": 10_000}, timeout=5)
    finally:
        first.stop()
    again = Served("--store", store, "--seed", "5", *FROZEN)
    try:
        assert [status(again.url, t) for t in old] == ["completed"] * 3
        new = [create(again.url) for _ in range(3)]
        assert not set(new) & set(old)
        listed = requests.get(f"{again.url}/_mock/tasks", timeout=5).json()
        assert [t["task"]["task_id"] for t in listed["tasks"]] == old + new
    finally:
        again.stop()


def test_workers_on_memory_are_refused_with_a_reason() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mock_server.cli", "serve", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--workers 2 needs a shared store" in result.stderr
    assert "redis://" in result.stderr


def test_workers_settings_reach_the_workers() -> None:
    from mock_server.settings import Settings
    from mock_server.workers import settings_from_json, settings_json

    settings = Settings(api_keys=("a", "b"), seed=9, store="redis://x:1/0", workers=3)
    assert settings_from_json(settings_json(settings)) == settings
    assert json.loads(settings_json(settings))["api_keys"] == ["a", "b"]
