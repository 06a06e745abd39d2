"""Resident memory with 100,000 stored tasks (issue 3 item 8; target: <= 300 MB in all).

Each figure comes from a fresh subprocess, so nothing else this run did is counted: the
resident set (``VmRSS`` in ``/proc/self/status``, else ``ru_maxrss``) once the fake is built,
then after creating the tasks through :meth:`Backend.create` with the seed's request body.
Two shapes: the backend alone (the store), and the app as ``serve`` builds it (observers
such as the webhook schedule attached, so their per-task state is counted too).
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
SEED_REQUEST: Final = ROOT / "fixtures" / "examples" / "seed-request.json"
TASKS: Final = 100_000
TARGET_MB: Final = 300.0
SHAPES: Final = ("backend", "app")


def rss_mb() -> float:
    """This process's resident set size in MB (1 MB = 2**20 bytes)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(shape: str, count: int) -> dict[str, float]:
    """In this process: build the fake, create ``count`` tasks, return the figures."""
    from mock_server.domain.backend import Backend
    from mock_server.settings import Settings

    backend = Backend(Settings())
    if shape == "app":
        from mock_server.web.app import create_app

        create_app(backend=backend)
    text = SEED_REQUEST.read_text(encoding="utf-8")
    backend.create("bench-key", json.loads(text), "http://127.0.0.1:8000")
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    for _ in range(count - 1):
        # a fresh body and key each time, as a request brings them: no strings shared by luck
        body: dict[str, Any] = json.loads(text)
        backend.create(b"bench-key".decode(), body, "http://127.0.0.1:8000")
    seconds = time.perf_counter() - started
    gc.collect()
    if len(backend.store) != count:
        raise RuntimeError(f"expected {count} stored tasks, found {len(backend.store)}")
    return {"before": before, "after": rss_mb(), "seconds": seconds}


def measure(shape: str, count: int = TASKS) -> dict[str, float]:
    """:func:`child` in a fresh interpreter (bounded to two minutes)."""
    call = f"child({shape!r}, {count})"
    code = f"import json; from bench.suite_memory import child; print(json.dumps({call}))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory child failed: {done.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def run() -> None:
    """Print resident memory before and after storing 100,000 tasks, per shape."""
    worst = 0.0
    for shape in SHAPES:
        f = measure(shape)
        per_task = (f["after"] - f["before"]) * 2**20 / TASKS
        worst = max(worst, f["after"])
        print(
            f"  {shape:8} {f['before']:7.1f} MB built, {f['after']:7.1f} MB with {TASKS:,} tasks "
            f"(+{f['after'] - f['before']:.1f} MB, {per_task:,.0f} B/task, "
            f"{TASKS / f['seconds']:,.0f} creates/s)"
        )
    verdict = "ok" if worst <= TARGET_MB else "MISSED"
    print(f"  target: <= {TARGET_MB:.0f} MB in all: {verdict} ({worst:.1f} MB)")
