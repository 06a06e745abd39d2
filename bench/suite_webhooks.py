"""Webhook benchmarks (issue 5 targets).

1. Burst: 1,000 tasks completing at the same virtual instant; the background sender (as
   ``serve`` runs it) delivers every terminal webhook to a receiver in its own process. Target:
   all 1,000 delivered, none lost or duplicated, within 5 s of wall time.
2. Hanging receiver: the API's p99 latency (``wrk``, 32 connections, ``POST /api/v1/task``)
   on a ``piapi-mock serve`` whose every task's webhook goes to a receiver that never
   answers, against the same load on a second server with no webhooks, alternating short
   runs (ABBA). Target: median p99 ratio <= 1.2.

Tunable by environment: ``PIAPI_BENCH_SECONDS`` (per wrk run, default 2),
``PIAPI_BENCH_ROUNDS`` (pairs, default 8). Every process is stopped however the run ends.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from mock_server.ports import free_port

ROOT: Final = Path(__file__).resolve().parent.parent
SEED_REQUEST: Final = ROOT / "fixtures" / "examples" / "seed-request.json"
KEY: Final = "bench-key"
BURST: Final = 1000
BURST_TARGET_S: Final = 5.0
P99_TARGET_RATIO: Final = 1.2
READY_TIMEOUT: Final = 20.0


def wait_ready(port: int, path: str) -> None:
    """Poll ``GET path`` until it answers (bounded)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answered on port {port} within {READY_TIMEOUT} s")


@contextmanager
def process(args: list[str], port: int, ready_path: str) -> Iterator[subprocess.Popen[bytes]]:
    """A child process, ready on ``port``; always stopped."""
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        wait_ready(port, ready_path)
        yield child
    finally:
        child.terminate()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(5)
        if child.stderr is not None:
            child.stderr.close()


def receiver(port: int, mode: str) -> list[str]:
    """The command line of a receiver process."""
    return [
        sys.executable,
        "-m",
        "mock_server.webhooks.receiver",
        "--port",
        str(port),
        "--mode",
        mode,
    ]


def receiver_counts(port: int) -> dict[str, int]:
    """``{"count": N, "distinct": M}`` from a receiver process."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    conn.request("GET", "/_count")
    counts: dict[str, int] = json.loads(conn.getresponse().read())
    conn.close()
    return counts


def request_body(endpoint: str) -> dict[str, Any]:
    """The seed's request with its webhook pointed at ``endpoint``."""
    body: dict[str, Any] = json.loads(SEED_REQUEST.read_text(encoding="utf-8"))
    body["config"]["webhook_config"] = {"endpoint": endpoint, "secret": "bench"}
    return body


# -- 1. burst -------------------------------------------------------------------------------


async def _burst(endpoint: str, receiver_port: int) -> tuple[float, dict[str, int], int]:
    from mock_server.domain.backend import manual_backend
    from mock_server.settings import Settings
    from mock_server.webhooks import attach_webhooks

    backend, clock = manual_backend(Settings(webhook_events="terminal"))
    dispatcher = attach_webhooks(backend)
    body = request_body(endpoint)
    records = [backend.create(KEY, body, "http://127.0.0.1").record for _ in range(BURST)]
    end = clock.now() + 100 * 10**9
    for record in records:  # every task ends at the same virtual instant
        record.start_at = clock.now() + 10**9
        record.run_ns = end - record.start_at
        dispatcher.task_changed(record)
    await dispatcher.start()
    try:
        started = time.perf_counter()
        clock.set(end)
        backend.advance(0)  # tell observers the clock moved
        await dispatcher.wait_idle(timeout=30)
        elapsed = time.perf_counter() - started
    finally:
        await dispatcher.stop()
    delivered = len({a.task_id for a in dispatcher.log if a.ok})
    return elapsed, receiver_counts(receiver_port), delivered


def burst() -> None:
    """1,000 terminal webhooks due at one virtual instant."""
    port = free_port()
    with process(receiver(port, "ok"), port, "/_count"):
        elapsed, counts, delivered = asyncio.run(_burst(f"http://127.0.0.1:{port}/hook", port))
    ok = counts["count"] == counts["distinct"] == delivered == BURST and elapsed <= BURST_TARGET_S
    print(
        f"burst: {BURST} tasks ending at one virtual instant -> received {counts['count']} "
        f"({counts['distinct']} distinct, {delivered} tasks logged delivered) in {elapsed:.2f} s "
        f"wall (target: all {BURST}, none duplicated, <= {BURST_TARGET_S:g} s) "
        f"{'OK' if ok else 'MISSED'}",
        flush=True,
    )


# -- 2. API latency while the receiver hangs ------------------------------------------------

_LATENCY = re.compile(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_UNIT_MS: Final = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_script(body: dict[str, Any]) -> str:
    """A wrk Lua script POSTing ``body`` to ``/api/v1/task``."""
    text = json.dumps(body, separators=(",", ":"))
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{text}]==]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["x-api-key"] = "{KEY}"\n'
    )


def run_wrk(port: int, body: dict[str, Any], seconds: int) -> tuple[float, float]:
    """(p99 ms, requests/s) of a create load on ``port``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(wrk_script(body))
    try:
        url = f"http://127.0.0.1:{port}/api/v1/task"
        wrk = ["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency", "-s", script.name, url]
        out = subprocess.run(
            pinned(0, wrk),
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    latency, rps = _LATENCY.search(out), _RPS.search(out)
    if latency is None or rps is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return float(latency.group(1)) * _UNIT_MS[latency.group(2)], float(rps.group(1))


def pinned(cpu: int, args: list[str]) -> list[str]:
    """``args`` on one CPU (``taskset``, when there are two or more), so the load generator and
    the server do not fight over one core and the figures vary less."""
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        return args
    return ["taskset", "-c", str(cpu), *args]


def serve(port: int) -> list[str]:
    """``piapi-mock serve`` on ``port`` (webhook timeout 10 s, concurrency 32: the defaults)."""
    return pinned(1, [sys.executable, "-m", "mock_server.cli", "serve", "--port", str(port)])


def hanging() -> None:
    """API p99 with a hanging receiver vs no webhooks.

    Both servers run side by side (pinned to the same CPU, the idle one costs nothing) and
    short wrk runs alternate between them in ABBA order, so a drifting machine load hits both
    alike; the figure is the median of the per-pair p99 ratios.
    """
    if shutil.which("wrk") is None:
        print("hanging receiver: skipped, wrk is not installed (apt-get install wrk)")
        return
    seconds = int(os.environ.get("PIAPI_BENCH_SECONDS", "2"))
    rounds = int(os.environ.get("PIAPI_BENCH_ROUNDS", "8"))
    hook_port, plain_port, hooked_port = free_port(), free_port(), free_port()
    plain_body = request_body("")
    hooked_body = request_body(f"http://127.0.0.1:{hook_port}/hook")
    plain: list[tuple[float, float]] = []
    hooked: list[tuple[float, float]] = []
    with (
        process(receiver(hook_port, "hang"), hook_port, "/_count"),
        process(serve(plain_port), plain_port, "/_mock/health"),
        process(serve(hooked_port), hooked_port, "/_mock/health"),
    ):
        run_wrk(plain_port, plain_body, 1)  # warm up both
        run_wrk(hooked_port, hooked_body, 1)
        for round_ in range(rounds):
            runs = [(plain_port, plain_body, plain), (hooked_port, hooked_body, hooked)]
            for port, body, results in runs if round_ % 2 == 0 else runs[::-1]:
                results.append(run_wrk(port, body, seconds))
        hung = receiver_counts(hook_port)["count"]
    ratio = statistics.median(h[0] / p[0] for h, p in zip(hooked, plain, strict=True))
    print(
        f"hanging receiver: create p99 {statistics.median(p for p, _ in hooked):.2f} ms with "
        f"webhooks vs {statistics.median(p for p, _ in plain):.2f} ms without; median ratio "
        f"{ratio:.2f}x (target <= {P99_TARGET_RATIO}) "
        f"{'OK' if ratio <= P99_TARGET_RATIO else 'MISSED'}; req/s "
        f"{statistics.median(r for _, r in hooked):.0f} vs "
        f"{statistics.median(r for _, r in plain):.0f}; {hung} deliveries hung "
        f"({rounds} pairs of {seconds} s runs; p99s without "
        f"{[round(p, 1) for p, _ in plain]}, with {[round(p, 1) for p, _ in hooked]})",
        flush=True,
    )


def run() -> None:
    """Both webhook benchmarks."""
    burst()
    hanging()
