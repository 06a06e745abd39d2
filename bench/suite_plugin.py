"""The pytest plugin's costs: session server start, per-test reset, in-process round trip.

Targets (issue 7): the session server starts in under 1 s, a per-test reset takes under 5 ms,
and an in-process create -> complete -> get round trip under 2 ms. Each figure is a median
over repeats; the round trip is also shown against a baseline in the same run: the same three
httpx calls answered by a bare respx route (what intercepting alone costs).

Tunable by environment: ``PIAPI_BENCH_REPEATS`` (default 200).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import httpx
import respx

from contract_tests.inprocess import InProcessMock, PrivateLoop
from contract_tests.server import PiapiServer, ServerThread
from mock_server.settings import Settings

ROOT: Final = Path(__file__).resolve().parent.parent
BODY: Final = json.loads((ROOT / "fixtures" / "examples" / "seed-request.json").read_text())
TARGETS_MS: Final = {"server start": 1000.0, "per-test reset": 5.0, "round trip": 2.0}
COLD_START: Final = """
import time
t = time.perf_counter()
from contract_tests.server import ServerThread
s = ServerThread()
print((time.perf_counter() - t) * 1000)
s.close()
"""


def _body() -> dict[str, Any]:
    body = json.loads(json.dumps(BODY))
    body["config"]["webhook_config"]["endpoint"] = ""
    return dict(body)


def median_ms(func: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``func()`` in milliseconds (after one warm-up call)."""
    func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def server_start_ms() -> tuple[float, float]:
    """(cold: a fresh interpreter, imports included; warm: modules already loaded)."""
    cold = subprocess.run(
        [sys.executable, "-c", COLD_START], capture_output=True, text=True, check=True, cwd=ROOT
    )
    ServerThread().close()  # warm-up: every module loaded
    start = time.perf_counter()
    thread = ServerThread()
    warm = (time.perf_counter() - start) * 1000
    thread.close()
    return float(cold.stdout.strip()), warm


def reset_ms(repeats: int) -> tuple[float, float]:
    """(``piapi_server``: POST /_mock/reset; ``piapi_mock``: a fresh in-process fake)."""
    thread = ServerThread()
    server = PiapiServer(thread)
    try:
        served = median_ms(server.reset, repeats)
    finally:
        server.close()
        thread.close()
    portal = PrivateLoop()

    def fresh() -> None:
        with InProcessMock(Settings(), "https://api.piapi.ai", portal):
            pass

    try:
        in_process = median_ms(fresh, repeats)
    finally:
        portal.close()
    return served, in_process


def round_trip_ms(repeats: int) -> tuple[float, float]:
    """(the fake in-process, sync httpx client; the bare respx baseline)."""
    portal = PrivateLoop()
    body = _body()
    with (
        InProcessMock(Settings(), "https://api.piapi.ai", portal) as mock,
        httpx.Client(base_url=mock.base_url, headers=mock.headers) as http,
    ):

        def trip() -> None:
            task_id = http.post("/api/v1/task", json=body).json()["data"]["task_id"]
            mock.run_until_idle()
            got = http.get(f"/api/v1/task/{task_id}").json()["data"]
            assert got["status"] == "completed", got

        fake = median_ms(trip, repeats)
    portal.close()
    answer = {"code": 200, "data": {"task_id": "t", "status": "completed"}, "message": "success"}
    with respx.mock(base_url="https://api.piapi.ai") as router:
        router.route().respond(200, json=answer)
        with httpx.Client(base_url="https://api.piapi.ai") as http:

            def bare() -> None:
                http.post("/api/v1/task", json=body).json()
                http.get("/api/v1/task/t").json()

            baseline = median_ms(bare, repeats)
    return fake, baseline


def run() -> None:
    """Measure and print every figure with its target."""
    repeats = int(os.environ.get("PIAPI_BENCH_REPEATS", "200"))
    cold, warm = server_start_ms()
    served_reset, fresh_mock = reset_ms(repeats)
    trip, baseline = round_trip_ms(repeats)
    rows = [
        ("server start", cold, f"cold, imports included (warm: {warm:.1f} ms)"),
        ("per-test reset", served_reset, f"piapi_server; a fresh piapi_mock: {fresh_mock:.2f} ms"),
        (
            "round trip",
            trip,
            f"create -> complete -> get; bare respx: {baseline:.2f} ms ({trip / baseline:.1f}x)",
        ),
    ]
    for name, value, note in rows:
        target = TARGETS_MS[name]
        verdict = "ok" if value < target else "MISSED"
        print(f"{name:15} {value:9.2f} ms  target < {target:g} ms  {verdict:6}  {note}", flush=True)
