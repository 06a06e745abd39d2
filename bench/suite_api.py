"""API load: the fake against a bare Starlette endpoint, same load, same run (issue 3 item 8).

Both servers run in their own uvicorn process (one worker, uvicorn's default HTTP stack, as
``piapi-mock serve`` runs it) on a free 127.0.0.1 port. ``wrk`` (32 connections, one thread)
drives ``POST /api/v1/task`` with the seed's request body and ``GET /api/v1/task/{id}``
cycling over a few hundred created tasks, alternating fake and baseline for a few rounds; the
figures are medians over the rounds. Targets: create >= 0.6x and get >= 0.85x the baseline's
requests per second, p99 under 10 ms.

Tunable by environment: ``PIAPI_BENCH_SECONDS`` (per run, default 3), ``PIAPI_BENCH_ROUNDS``
(default 3). Every server is stopped however the run ends.
"""

from __future__ import annotations

import dataclasses
import http.client
import importlib.util
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NamedTuple

from bench.bare_app import CREATE_BYTES_ENV, GET_BYTES_ENV
from mock_server.ports import free_port

ROOT: Final = Path(__file__).resolve().parent.parent
SEED_REQUEST: Final = ROOT / "fixtures" / "examples" / "seed-request.json"
KEY: Final = "bench-key"
CONNECTIONS: Final = 32
GET_TASKS: Final = 300
READY_TIMEOUT: Final = 20.0
TARGETS: Final = {"create": 0.6, "get": 0.85}
P99_TARGET_MS: Final = 10.0


@dataclass(frozen=True, slots=True)
class WrkResult:
    """What one wrk run measured."""

    rps: float
    p99_ms: float
    requests: int
    errors: int
    #: Server CPU time per request (user + system), in microseconds; 0 when unknown.
    cpu_us: float = 0.0


class Server(NamedTuple):
    """A running bench server."""

    port: int
    pid: int


def fake_app() -> Any:
    """The fake as ``serve`` builds it, at ``--speed 1000``.

    Creates answer ``pending`` (as in real use) and the tasks fetched by the GET load are
    ``completed`` (the largest task body) long before it starts.

    ``uvicorn --factory bench.suite_api:fake_app`` calls this in the server process.
    """
    from mock_server.settings import Settings
    from mock_server.web.app import create_asgi

    return create_asgi(Settings(speed=1000.0, webhook_allow=("127.0.0.1",)))


def request_body() -> bytes:
    """The seed's request body, compact, without its webhook (the bench stays on loopback)."""
    body: dict[str, Any] = json.loads(SEED_REQUEST.read_text(encoding="utf-8"))
    body["config"]["webhook_config"]["endpoint"] = ""
    return json.dumps(body, separators=(",", ":")).encode()


# -- servers -------------------------------------------------------------------------------


@contextmanager
def uvicorn_server(factory: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """A one-worker uvicorn process serving ``factory``; yields it, always stops it."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=log
        )
        try:
            _wait_ready(process, port, log)
            yield Server(port, process.pid)
        finally:
            _stop(process)


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Any) -> None:
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


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def call(port: int, method: str, path: str, body: bytes | None = None) -> bytes:
    """One request to a local server; the response body (raises unless HTTP 200)."""
    headers = {"x-api-key": KEY, "content-type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"{method} {path}: HTTP {response.status}: {data[:200]!r}")
    return data


# -- wrk -----------------------------------------------------------------------------------


def lua_string(text: str) -> str:
    """``text`` as a Lua long-bracket string literal."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def post_script(body: bytes) -> str:
    """A wrk script posting ``body`` to the create route."""
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = {lua_string(body.decode())}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["x-api-key"] = "{KEY}"\n'
    )


def get_script(task_ids: list[str]) -> str:
    """A wrk script cycling GETs over ``task_ids``."""
    ids = ",".join(lua_string(task_id) for task_id in task_ids)
    return (
        f'wrk.headers["x-api-key"] = "{KEY}"\n'
        f"local ids = {{{ids}}}\n"
        "local n = #ids\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % n + 1\n"
        '  return wrk.format("GET", "/api/v1/task/" .. ids[i])\n'
        "end\n"
    )


_UNITS: Final = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> WrkResult:
    """The figures of ``wrk --latency`` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s+99(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if rps is None or p99 is None or total is None:
        raise RuntimeError(f"cannot read wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    timeouts = re.search(r"timeout (\d+)", output)
    errors += int(timeouts.group(1)) if timeouts else 0
    return WrkResult(
        float(rps.group(1)), float(p99.group(1)) * _UNITS[p99.group(2)], int(total.group(1)), errors
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (0 where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(wrk_path: str, server: Server, script: Path, seconds: float) -> WrkResult:
    """One bounded wrk run against ``server``, with the server's CPU time per request."""
    command = [wrk_path, "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency"]
    command += ["--timeout", "2s", "-s", str(script), f"http://127.0.0.1:{server.port}/api/v1/task"]
    cpu_before = cpu_seconds(server.pid)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    cpu = cpu_seconds(server.pid) - cpu_before
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = parse_wrk(done.stdout)
    return dataclasses.replace(result, cpu_us=cpu / max(1, result.requests) * 1e6)


# -- the run -------------------------------------------------------------------------------


def http_stack() -> str:
    """Which HTTP parser and event loop uvicorn's ``auto`` picks in this environment."""
    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"{parser} + {loop}"


def _median(results: list[WrkResult]) -> WrkResult:
    return WrkResult(
        statistics.median(r.rps for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.requests for r in results),
        sum(r.errors for r in results),
        statistics.median(r.cpu_us for r in results),
    )


def _measure(
    wrk_path: str, servers: dict[str, Server], scripts: dict[str, Path]
) -> dict[tuple[str, str], WrkResult]:
    """Median figures per (route, server) over the rounds, fake and bare alternating."""
    seconds = float(os.environ.get("PIAPI_BENCH_SECONDS", "3"))
    rounds = int(os.environ.get("PIAPI_BENCH_ROUNDS", "3"))
    runs: dict[tuple[str, str], list[WrkResult]] = {}
    for script in scripts.values():
        for server in servers.values():
            wrk(wrk_path, server, script, 1)  # warm-up
    for _ in range(rounds):
        for route, script in scripts.items():
            for name, server in servers.items():
                runs.setdefault((route, name), []).append(wrk(wrk_path, server, script, seconds))
    return {key: _median(results) for key, results in runs.items()}


def _report(figures: dict[tuple[str, str], WrkResult], sizes: tuple[int, int]) -> None:
    print(f"  response bytes: create {sizes[0]}, get {sizes[1]}")
    print(f"  {'':8}{'fake req/s':>12}{'bare req/s':>12}{'ratio':>8}{'target':>8}", end="")
    print(f"{'fake p99':>11}{'bare p99':>11}{'CPU/req fake':>14}{'bare':>7}{'ratio':>7}")
    verdicts = []
    for route, target in TARGETS.items():
        fake, bare = figures[(route, "fake")], figures[(route, "bare")]
        ratio = fake.rps / bare.rps
        print(f"  {route:8}{fake.rps:>12,.0f}{bare.rps:>12,.0f}{ratio:>8.2f}{target:>8.2f}", end="")
        print(f"{fake.p99_ms:>8.2f} ms{bare.p99_ms:>8.2f} ms", end="")
        cpu_ratio = bare.cpu_us / fake.cpu_us if fake.cpu_us else 0.0
        print(f"{fake.cpu_us:>11.0f} us{bare.cpu_us:>7.0f}{cpu_ratio:>7.2f}")
        verdicts.append(f"{route} {'ok' if ratio >= target else 'MISSED'}")
        verdicts.append(f"{route} p99 {'ok' if fake.p99_ms < P99_TARGET_MS else 'MISSED'}")
        if fake.errors or bare.errors:
            print(f"  ! {route}: {fake.errors} fake / {bare.errors} bare failed requests")
    print("  targets: " + ", ".join(verdicts))
    print("  (CPU/req: server CPU time per request; its ratio barely moves with other load)")


def run() -> None:
    """Start the fake and the bare endpoint, load both with wrk, print the ratios and p99."""
    wrk_path = shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else "")
    if not wrk_path:
        print("  SKIPPED: wrk is not installed (apt-get install wrk; `make bench` tries to).")
        return
    body = request_body()
    print(f"  uvicorn ({http_stack()}), one worker per server; wrk -t1 -c{CONNECTIONS}")
    with tempfile.TemporaryDirectory() as tmp, uvicorn_server("bench.suite_api:fake_app") as fake:
        create_size = len(call(fake.port, "POST", "/api/v1/task", body))
        created = [call(fake.port, "POST", "/api/v1/task", body) for _ in range(GET_TASKS)]
        ids = [json.loads(answer)["data"]["task_id"] for answer in created]
        time.sleep(0.2)  # at --speed 1000 every task is completed (~110 virtual s) by now
        get_size = len(call(fake.port, "GET", f"/api/v1/task/{ids[0]}"))
        scripts = {"create": Path(tmp) / "post.lua", "get": Path(tmp) / "get.lua"}
        scripts["create"].write_text(post_script(body))
        scripts["get"].write_text(get_script(ids))
        sizes = {CREATE_BYTES_ENV: str(create_size), GET_BYTES_ENV: str(get_size)}
        with uvicorn_server("bench.bare_app:create", sizes) as bare:
            figures = _measure(wrk_path, {"fake": fake, "bare": bare}, scripts)
    _report(figures, (create_size, get_size))
