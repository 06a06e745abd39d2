"""Slow clients and SIGTERM, against a real ``piapi-mock serve`` process (issue #11: defect 8).

These socket tests wait on the wall clock, each bounded by a few seconds."""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from tests.test_serve import Served as _Served

pytestmark = pytest.mark.socket


class Served(_Served):
    """``piapi-mock serve``, waited for patiently (a loaded machine starts it slowly)."""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/openapi.json", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("server did not start")


FLAGS = ("--header-timeout", "1", "--body-timeout", "1", "--idle-timeout", "1")


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.settimeout(5)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes (bounded by the socket timeout)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture(scope="module")
def strict() -> Iterator[Served]:
    served = Served(*FLAGS)
    yield served
    served.stop()


def test_a_connection_that_never_finishes_its_headers_is_closed(strict: Served) -> None:
    with connect(strict.port) as sock:
        sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n")  # no blank line: never ends
        started = time.monotonic()
        assert read_all(sock) == b""
        assert time.monotonic() - started < 3


def test_a_connection_that_sends_nothing_is_closed(strict: Served) -> None:
    with connect(strict.port) as sock:
        started = time.monotonic()
        assert read_all(sock) == b""
        assert time.monotonic() - started < 3


def test_a_stalled_upload_is_answered_408(strict: Served) -> None:
    with connect(strict.port) as sock:
        head = (
            b"POST /api/v1/task HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        )
        sock.sendall(head + b'{"model": ')
        answer = read_all(sock)
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 408"), answer[:200]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["code"] == 408
    assert "--body-timeout" in body["message"]


def test_an_idle_keep_alive_connection_is_closed(strict: Served) -> None:
    with connect(strict.port) as sock:
        sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        answer = read_all(sock)  # the answer, then the close once idle
    assert answer.startswith(b"HTTP/1.1 200")
    assert time.monotonic() - started < 4


def test_the_watchdog_leaves_a_slow_answer_alone(strict: Served) -> None:
    with connect(strict.port) as sock:
        sock.sendall(
            b"GET /account/info HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n"
            b"X-Mock-Fault: latency:2500\r\n\r\n"
        )
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 200")  # 2.5 s > the 1 s header timeout


def test_sigterm_exits_within_5_s_whatever_is_in_flight() -> None:
    served = Served()  # default bounds: shutdown after 3 s
    stalled = connect(served.port)
    stalled.sendall(b"POST /api/v1/task HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{")
    waiting = connect(served.port)
    waiting.sendall(
        b"GET /account/info HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n"
        b"X-Mock-Fault: latency:600000\r\n\r\n"
    )
    half = connect(served.port)
    half.sendall(b"GET / HTTP/1.1\r\nHost")
    time.sleep(0.3)  # let the server see all three
    started = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    try:
        served.process.wait(timeout=8)
    finally:
        for sock in (stalled, waiting, half):
            sock.close()
        served.stop()
    took = time.monotonic() - started
    assert served.process.returncode is not None
    assert took < 5, f"SIGTERM took {took:.1f} s"
