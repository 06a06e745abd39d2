"""Dropped connections and truncated bodies over a real uvicorn server on 127.0.0.1.

The only scenario tests that touch a socket; every wait is bounded (a few seconds at most).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from mock_server.domain.backend import Backend
from mock_server.ports import free_port
from mock_server.web.app import create_asgi
from mock_server.web.faults import ConnectionDropped
from tests.scenarios.helpers import KEY, body, make

pytestmark = pytest.mark.socket


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn in a thread; its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), lifespan="off", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served() -> Iterator[tuple[str, Backend]]:
    """The fake (manual clock) served by uvicorn in a thread."""
    backend, _ = make()
    with serving(create_asgi(backend=backend)) as url:
        yield url, backend


def test_the_error_log_check_can_fail(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise ConnectionDropped("raised instead of dropping")

    with serving(broken) as url, httpx.Client(base_url=url, timeout=5) as http:
        assert http.get("/").status_code == 500
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] != []


def test_drop_closes_the_connection_without_an_answer(
    served: tuple[str, Backend], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = served
    with httpx.Client(base_url=url, timeout=5) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
            http.get("/api/v1/task/x", headers={**KEY, "X-Mock-Fault": "drop"})
        assert http.get("/api/v1/task/x", headers=KEY).status_code == 404  # server still fine
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_truncate_sends_part_of_the_body_then_closes(
    served: tuple[str, Backend], caplog: pytest.LogCaptureFixture
) -> None:
    url, backend = served
    with httpx.Client(base_url=url, timeout=5) as http:
        headers = {**KEY, "X-Mock-Fault": "truncate:25"}
        with http.stream("POST", "/api/v1/task", json=body(), headers=headers) as answer:
            assert answer.status_code == 200
            received = bytearray()

            def read_all() -> None:
                for chunk in answer.iter_raw():
                    received.extend(chunk)

            with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|closed"):
                read_all()
        assert bytes(received) == b'{"code":200,"data":{"task'
        assert int(answer.headers["content-length"]) > 25
    assert len(backend.store) == 1
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_real_client_sees_the_429_and_503_envelopes(served: tuple[str, Backend]) -> None:
    url, _ = served
    with httpx.Client(base_url=url, timeout=5) as http:
        limited = http.get("/account/info", headers={**KEY, "X-Mock-Fault": "429"})
        down = http.post("/api/v1/task", json=body(), headers={**KEY, "X-Mock-Fault": "503"})
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "1")
    assert down.json()["code"] == 503
