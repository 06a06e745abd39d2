"""Hardening figures (issue #11), printed, never asserted (``python -m bench hardening``).

- hostile requests sent in-process by the mini-fuzz, and unasked-for 5xx seen;
- resident memory after 500,000 creates: default cap (100,000 tasks), no cap, retention;
- a healthy webhook receiver's delay beside 40 hanging ones (served fake, real sockets);
- SIGTERM exit time of ``piapi-mock serve`` with a stalled upload and latency:600000 in flight.

``PIAPI_BENCH_FUZZ`` (10500) and ``PIAPI_BENCH_CREATES`` (500000) change the sizes.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

CREATES = int(os.environ.get("PIAPI_BENCH_CREATES", "500000"))
FUZZ = int(os.environ.get("PIAPI_BENCH_FUZZ", "10500"))


def fuzz(count: int) -> dict[str, Any]:
    """Send ``count`` drawn hostile requests to an in-process fake; count unasked 5xx."""
    from hypothesis import HealthCheck, given, settings

    from contract_tests.asgi import asgi_client
    from mock_server.domain.backend import manual_backend
    from mock_server.web.app import create_asgi
    from tests.hardening.fuzz import Tally, request

    tally = Tally()
    backend, _ = manual_backend()
    client = asgi_client(create_asgi(backend=backend))

    @settings(
        max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(request())
    def one(sent: Any) -> None:
        try:
            answer = client.send(sent)
        except Exception:  # a dropped/truncated fault in-process
            tally.record(sent, 0, "")
            return
        tally.record(sent, answer.status_code, answer.text)

    one()
    return {"sent": tally.sent, "5xx": tally.server_errors, "examples": tally.examples or []}


CHILD = """
import json, sys
from mock_server.domain.backend import manual_backend
from mock_server.settings import Settings
count, changes = int(sys.argv[1]), json.loads(sys.argv[2])
backend, clock = manual_backend(Settings(**changes))
body = json.load(open("fixtures/examples/seed-request.json"))
body["config"]["webhook_config"]["endpoint"] = ""
for i in range(count):
    backend.create("k", json.loads(json.dumps(body)), "http://x")
    if i % 1000 == 999:
        clock.advance(10)  # 1000 creates per 10 virtual seconds: renders end, retention bites
rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS")][0]
print(json.dumps({"rss_mb": round(rss / 1024, 1), "tasks": len(backend.store),
                  "evicted": backend.evicted, "expired": backend.expired}))
"""


def memory(changes: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(CREATES), json.dumps(changes)],
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


async def webhook_delay() -> dict[str, float]:
    """Wall seconds until a healthy receiver gets its event, beside 40 hanging tasks."""
    import httpx

    from mock_server.domain.backend import Backend
    from mock_server.domain.clock import SystemClock
    from mock_server.settings import Settings
    from mock_server.webhooks import dispatcher_of
    from mock_server.webhooks.receiver import Receiver

    hanging = await Receiver(mode="hang").start()
    healthy = await Receiver().start()
    settings = Settings(webhook_events="terminal", webhook_timeout=10.0, max_tasks=0)
    backend = Backend(settings, clock=SystemClock(1000.0))
    dispatcher = dispatcher_of(backend)
    with open("fixtures/examples/seed-request.json") as seed:
        body = json.load(seed)
    try:
        await dispatcher.start()
        for _ in range(40):
            body["config"]["webhook_config"]["endpoint"] = hanging.url
            backend.create("k", body, "http://x", scenario="complete-after:1")
        await asyncio.sleep(0.2)  # the 40 are due and in flight
        body["config"]["webhook_config"]["endpoint"] = healthy.url
        started = time.monotonic()
        backend.create("k", body, "http://x", scenario="complete-after:1")
        await healthy.wait_for(1, timeout=60)
        return {"healthy_delay_s": round(time.monotonic() - started, 3)}
    finally:
        await dispatcher.stop()
        await hanging.stop()
        await healthy.stop()
        del httpx


def sigterm() -> dict[str, float]:
    from mock_server.ports import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    stalled = socket.create_connection(("127.0.0.1", port))
    stalled.sendall(b"POST /api/v1/task HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{")
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(
        b"GET /account/info HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n"
        b"X-Mock-Fault: latency:600000\r\n\r\n"
    )
    time.sleep(0.3)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    took = time.monotonic() - started
    stalled.close()
    slow.close()
    return {"sigterm_exit_s": round(took, 2)}


def run() -> None:
    print("fuzz:", json.dumps(fuzz(FUZZ)), flush=True)
    for label, changes in [
        ("default cap (100,000)", {}),
        ("no cap", {"max_tasks": 0}),
        ("retention 60 s, no cap", {"retention": 60, "max_tasks": 0}),
    ]:
        print(f"memory after {CREATES} creates, {label}:", json.dumps(memory(changes)), flush=True)
    print("webhooks:", json.dumps(asyncio.run(webhook_delay())), flush=True)
    print("shutdown:", json.dumps(sigterm()), flush=True)
