"""Driving ``wrk`` (one thread, 32 connections, ``--latency``) and reading its figures."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench.servers import Pinning, Server, cpu_seconds

CONNECTIONS: Final = 32
KEY: Final = "bench-key"


@dataclass(frozen=True, slots=True)
class WrkResult:
    """What one wrk run measured."""

    rps: float
    p99_ms: float
    requests: int
    errors: int
    #: Server CPU time per request (user + system), in microseconds; 0 when unknown.
    cpu_us: float = 0.0


def wrk_path() -> str:
    """Where wrk is ("" when it is not installed)."""
    return shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else "")


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


#: Where :func:`distinct_post_script` puts each request's number (in a string value).
MARK: Final = "@N@"


def distinct_post_script(body: bytes) -> str:
    """A wrk script posting ``body`` with :data:`MARK` replaced by a new number each request:
    every body differs, so the fake's memo of bodies it has seen never hits."""
    head, found, tail = body.decode().partition(MARK)
    if not found:
        raise ValueError(f"the body has no {MARK} to number")
    return (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["x-api-key"] = "{KEY}"\n'
        f"local head, tail = {lua_string(head)}, {lua_string(tail)}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        "  return wrk.format(nil, nil, nil, head .. n .. tail)\n"
        "end\n"
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


def wrk(server: Server, script: Path, seconds: float, pinning: Pinning) -> WrkResult:
    """One bounded wrk run against ``server``, with the server's CPU time per request."""
    command = [*pinning.prefix(pinning.wrk), wrk_path(), "-t1", f"-c{CONNECTIONS}"]
    command += [f"-d{seconds:g}s", "--latency", "--timeout", "2s", "-s", str(script)]
    command.append(f"http://127.0.0.1:{server.port}/api/v1/task")
    cpu_before = cpu_seconds(server.pid)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    cpu = cpu_seconds(server.pid) - cpu_before
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = parse_wrk(done.stdout)
    return dataclasses.replace(result, cpu_us=cpu / max(1, result.requests) * 1e6)
