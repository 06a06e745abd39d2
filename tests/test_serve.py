"""``piapi-mock serve`` as a real process on a loopback port, driven by real HTTP clients.

These are the only tests that wait on the wall clock: a served fake at ``--speed 1000``
finishes a render in about 0.1 s. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mock_server.ports import free_port
from mock_server.schema_registry import default_registry
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.socket


class Served:
    """A ``piapi-mock serve`` subprocess."""

    def __init__(self, *flags: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "mock_server.cli", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, *flags],
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/openapi.json", timeout=0.5)
                return
            except (requests.ConnectionError, requests.Timeout):  # busy machine: slow first answer
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("server did not start")

    def stop(self) -> str:
        self.process.terminate()
        try:
            out, _ = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        return out.decode(errors="replace")


@pytest.fixture(scope="module")
def fast() -> Iterator[Served]:
    served = Served("--speed", "1000", "--seed", "7")
    yield served
    served.stop()


def wait_terminal(url: str, task_id: str, key: str, budget: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + budget
    while True:
        body: dict[str, Any] = requests.get(
            f"{url}/api/v1/task/{task_id}", headers={"x-api-key": key}, timeout=5
        ).json()
        assert default_registry().errors("response", body) == []
        if body["data"]["status"] in {"completed", "failed"} or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_the_seed_curl_request_completes_with_a_playable_video(fast: Served) -> None:
    raw = (EXAMPLES / "seed-request.json").read_bytes()
    headers = {"x-api-key": "k", "Content-Type": "application/json"}
    created = requests.post(f"{fast.url}/api/v1/task", data=raw, headers=headers, timeout=5)
    assert created.status_code == 200
    body = created.json()
    assert default_registry().errors("response", body) == []
    seed = json.loads((EXAMPLES / "seed-response.json").read_text())
    assert body.keys() == seed.keys()
    assert body["data"].keys() == seed["data"].keys()
    assert body["data"]["meta"]["created_at"].endswith("Z")
    final = wait_terminal(fast.url, body["data"]["task_id"], "k")
    assert final["data"]["status"] == "completed"
    video = requests.get(final["data"]["output"]["video"], timeout=5)
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"


def test_hostile_batch_over_the_socket_never_500(fast: Served) -> None:
    url = fast.url + "/api/v1/task"
    key = {"x-api-key": "k"}
    bodies = [b"", b"{", b"[]", b"\x00\xff", b'{"model":"kling"}', b"null", b"1e999999"]
    for raw in bodies:
        response = requests.post(url, data=raw, headers=key, timeout=5)
        assert 400 <= response.status_code < 500, raw
        assert default_registry().errors("error", response.json()) == []
    big = requests.post(url, data=b"x" * (2 * 1024 * 1024), headers=key, timeout=5)
    assert big.status_code == 413
    assert requests.get(fast.url + "/nowhere", timeout=5).text == "404 page not found"
    assert requests.get(fast.url + "/_mock/health", timeout=5).json()["status"] == "ok"


def test_a_real_third_party_client_runs_its_create_and_wait_flow(fast: Served) -> None:
    """``piapi-cli run`` from the PyPI package piapi-skills, unchanged, pointed at the fake."""
    task_input = json.loads((EXAMPLES / "seed-request.json").read_text())["input"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "piapi_skills.cli",
            "run",
            "kling",
            "omni_video_generation",
            json.dumps(task_input),
            "--poll-interval",
            "0.2",
            "--timeout",
            "20",
        ],
        env={**os.environ, "PIAPI_API_BASE": fast.url, "PIAPI_API_KEY": "third-party"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    final = json.loads(result.stdout)
    assert final["data"]["status"] == "completed"
    assert final["data"]["output"]["video"].startswith(fast.url + "/storage/videos/")


def test_api_keys_and_no_control_flags() -> None:
    served = Served("--api-key", "good", "--no-control")
    try:
        url = served.url + "/api/v1/task"
        raw = (EXAMPLES / "seed-request.json").read_bytes()
        assert (
            requests.post(url, data=raw, headers={"x-api-key": "bad"}, timeout=5).status_code == 401
        )
        assert (
            requests.post(url, data=raw, headers={"x-api-key": "good"}, timeout=5).status_code
            == 200
        )
        assert requests.get(served.url + "/_mock/health", timeout=5).status_code == 404
    finally:
        served.stop()


def test_settings_from_the_environment() -> None:
    served = Served(env={"PIAPI_MOCK_PRICE_TABLE": "2026-02-13", "PIAPI_MOCK_SPEED": "50"})
    try:
        raw = (EXAMPLES / "seed-request.json").read_bytes()
        body = requests.post(
            served.url + "/api/v1/task", data=raw, headers={"x-api-key": "k"}, timeout=5
        ).json()
        assert body["data"]["meta"]["usage"]["frozen"] == 3_000_000  # 3 s x $0.10
        assert requests.get(served.url + "/_mock/clock", timeout=5).json()["speed"] == 50
    finally:
        served.stop()
