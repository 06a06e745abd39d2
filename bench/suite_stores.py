"""Stores (issue 13): the API cases on every store, two Redis workers against one memory
process, and resident memory per 100,000 tasks on each store. Every figure is a ratio or a
bound measured in this run.

- **per store**: :func:`bench.suite_api.run_cases` (create and get, fake against the bare
  endpoint on the same stack, alternating) on ``memory://``, a SQLite file in a temporary
  folder and a Redis started here (``redis-server --save '' --appendonly no``) pinned to the
  fake's core (``PIAPI_BENCH_REDIS_CPUS`` to move it): the process pays for its store, and
  wrk keeps its own core. Targets on Redis: create >= 0.3x, get >= 0.5x bare.
  ``PIAPI_BENCH_STORES=redis`` (comma-separated) runs only some stores.
- **two workers on Redis against one process on memory**: create and get requests per second
  of ``--workers 2 --store redis://`` over those of one ``memory://`` process, both unpinned
  (the machine's cores are shared by the workers, Redis and wrk: on 2 cores this says what a
  second worker costs, not what it gains).
- **polls**: a get of a task still running (created with ``X-Mock-Scenario: stuck``), which
  no per-process cache answers: on Redis one batched ``MGET`` each. Against the bare get, on
  each store (no target of its own; issue 13's get target is read on finished tasks).
- **memory per 100,000 tasks**: a fresh fake on each store takes creates for
  ``PIAPI_BENCH_STORE_FILL`` seconds (default 10); the fake's resident growth, Redis's
  ``used_memory`` growth and the SQLite file's size, each per 100,000 tasks created.

Skipped, with the reason, when wrk or redis-server is missing (``make system-deps``).
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import redis

from bench.servers import Pinning, Server, bare_server, fake_server, pinning, rss_kb
from bench.suite_api import (
    GET_TASKS,
    Figures,
    Options,
    alternate,
    call,
    options_from_env,
    prepare,
    request_body,
    run_cases,
)
from bench.wrk import KEY, WrkResult, get_script, post_script, wrk, wrk_path
from mock_server.ports import free_port

#: Issue 13's targets on Redis, per process, against the bare endpoint.
REDIS_TARGETS: Final = {"create": 0.3, "get": 0.5}


@contextmanager
def redis_server(cpus: str = "") -> Iterator[str]:
    """A private redis-server (no persistence) on a free port; its URL."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("redis-server is not installed (make system-deps)")
    port = free_port()
    command = [executable, "--port", str(port), "--bind", "127.0.0.1"]
    command += ["--save", "", "--appendonly", "no"]
    prefix = ["taskset", "-c", cpus] if cpus else []
    process = subprocess.Popen([*prefix, *command], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        process.kill()
        process.wait(timeout=10)


def _used_memory(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


@dataclasses.dataclass(frozen=True, slots=True)
class Fill:
    """What a fill run measured: tasks created and growth per 100,000 of them (MB)."""

    tasks: int
    rss_mb: float
    store_mb: float


def fill(flags: list[str], seconds: float, pin: Pinning, store_size: Path | str | None) -> Fill:
    """Creates for ``seconds`` on a fresh fake; growth per 100,000 tasks."""
    body = request_body()
    with fake_server(flags, pin.server) as fake, tempfile.TemporaryDirectory() as tmp:
        call(fake.port, "POST", "/api/v1/task", body)
        script = Path(tmp) / "post.lua"
        script.write_text(post_script(body))
        rss, stored = rss_kb(fake.pid), _size(store_size)
        result = wrk(fake, script, seconds, pin)
        rss_grown, stored_grown = rss_kb(fake.pid) - rss, _size(store_size) - stored
    tasks = max(1, result.requests - result.errors)
    per = 100_000 / tasks
    return Fill(tasks, rss_grown / 1024 * per, stored_grown / 1024 / 1024 * per)


def _size(store_size: Path | str | None) -> int:
    """Bytes the store holds outside the fake: the SQLite files, or Redis's used memory."""
    if isinstance(store_size, Path):
        return sum(p.stat().st_size for p in store_size.parent.glob(store_size.name + "*"))
    if isinstance(store_size, str):
        return _used_memory(store_size)
    return 0


def workers_case(redis_url: str, seconds: float) -> dict[tuple[str, str], WrkResult]:
    """Two Redis workers against one memory process, both unpinned, alternating."""
    options = dataclasses.replace(options_from_env(), seconds=seconds)
    free = Pinning("", "")
    flags = ["--store", redis_url + "?namespace=workers", "--workers", "2"]
    with (
        tempfile.TemporaryDirectory() as tmp,
        fake_server((), "") as one,
        fake_server(flags, "") as two,
    ):
        servers: dict[str, Server] = {"one": one, "two": two}
        loads = {name: prepare(s, request_body(), Path(tmp), name) for name, s in servers.items()}
        runs = {
            (route, name): (servers[name], getattr(loads[name], route))
            for route in ("create", "get")
            for name in ("one", "two")
        }
        return alternate(runs, options, free)


def running_tasks(port: int, body: bytes, count: int) -> list[str]:
    """Ids of ``count`` tasks created stuck in ``processing`` (they never end)."""
    headers = {"x-api-key": KEY, "content-type": "application/json"}
    headers["x-mock-scenario"] = "stuck"
    ids: list[str] = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for _ in range(count):
            connection.request("POST", "/api/v1/task", body=body, headers=headers)
            answer = connection.getresponse().read()
            ids.append(json.loads(answer)["data"]["task_id"])
    finally:
        connection.close()
    return ids


def poll_case(flags: list[str], options: Options, pin: Pinning) -> tuple[WrkResult, WrkResult]:
    """Gets of running tasks on a fake started with ``flags``, and the bare get, alternating."""
    body = request_body()
    with tempfile.TemporaryDirectory() as tmp, fake_server(flags, pin.server) as fake:
        ids = running_tasks(fake.port, body, GET_TASKS)
        size = len(call(fake.port, "GET", f"/api/v1/task/{ids[0]}"))
        script = Path(tmp) / "poll.lua"
        script.write_text(get_script(ids))
        with bare_server(size, size, pin.server) as bare:
            runs = {("poll", "fake"): (fake, script), ("poll", "bare"): (bare, script)}
            found = alternate(runs, options, pin)
    return found[("poll", "fake")], found[("poll", "bare")]


def report_polls(polls: dict[str, tuple[WrkResult, WrkResult]]) -> None:
    for name, (fake, bare) in polls.items():
        cpu = bare.cpu_us / fake.cpu_us if fake.cpu_us else 0.0
        print(
            f"  poll of a running task, {name}: {fake.rps:,.0f} req/s vs bare {bare.rps:,.0f}: "
            f"{fake.rps / bare.rps:.2f}x (CPU/req {cpu:.2f}x), p99 {fake.p99_ms:.2f} ms"
        )


def _cpu_ratio(found: Figures, route: str) -> float:
    """Bare CPU per request over the fake's (0 when unknown)."""
    fake, bare = found.results[(route, "fake")], found.results[(route, "bare")]
    return bare.cpu_us / fake.cpu_us if fake.cpu_us else 0.0


def report_stores(figures: dict[str, Figures]) -> None:
    """Create and get ratios against bare on each store."""
    print(
        f"  {'store':<10}{'create':>9}{'get':>8}{'create p99':>13}{'get p99':>11}"
        f"{'CPU create':>12}{'CPU get':>9}  (req/s and CPU/req as x bare)"
    )
    for name, found in figures.items():
        create, get = found.results[("create", "fake")], found.results[("get", "fake")]
        cpu = [_cpu_ratio(found, route) for route in ("create", "get")]
        print(
            f"  {name:<10}{found.ratio('create'):>9.2f}{found.ratio('get'):>8.2f}"
            f"{create.p99_ms:>10.2f} ms{get.p99_ms:>8.2f} ms{cpu[0]:>12.2f}{cpu[1]:>9.2f}"
        )
    on_redis = figures.get("redis")
    if on_redis is None:
        return
    verdicts = [
        f"{route} {'ok' if on_redis.ratio(route) >= target else 'MISSED'} (>= {target}x)"
        for route, target in REDIS_TARGETS.items()
    ]
    print("  targets on Redis: " + ", ".join(verdicts))


def run() -> None:
    """Every store case."""
    if not wrk_path():
        print("  SKIPPED: wrk is not installed (apt-get install wrk; `make bench` tries to).")
        return
    if shutil.which("redis-server") is None:
        print("  SKIPPED: redis-server is not installed (make system-deps).")
        return
    options = dataclasses.replace(options_from_env(), sustained=0.0)
    fill_s = float(os.environ.get("PIAPI_BENCH_STORE_FILL", "10"))
    pin = pinning()
    redis_cpus = os.environ.get("PIAPI_BENCH_REDIS_CPUS", pin.server)
    wanted = set(os.environ.get("PIAPI_BENCH_STORES", "memory,sqlite,redis").split(","))
    with tempfile.TemporaryDirectory() as tmp, redis_server(redis_cpus) as redis_url:
        db = Path(tmp) / "bench.db"
        stores: dict[str, list[str]] = {
            "memory": [],
            "sqlite": ["--store", f"sqlite:///{db}"],
            "redis": ["--store", redis_url + "?namespace=api"],
        }
        stores = {name: flags for name, flags in stores.items() if name in wanted}
        figures = {name: run_cases(flags, options, name) for name, flags in stores.items()}
        polls = {name: poll_case(flags, options, pin) for name, flags in stores.items()}
        print("== stores: summary")
        report_stores(figures)
        report_polls(polls)
        both = workers_case(redis_url, options.seconds)
        for route in ("create", "get"):
            one, two = both[(route, "one")], both[(route, "two")]
            print(
                f"  {route}: 2 workers on Redis {two.rps:,.0f} req/s vs 1 process on memory "
                f"{one.rps:,.0f}: {two.rps / one.rps:.2f}x (unpinned, shared cores)"
            )
        fills: dict[str, tuple[list[str], Path | str | None]] = {
            "memory": ([], None),
            "sqlite": (["--store", f"sqlite:///{Path(tmp) / 'fill.db'}"], Path(tmp) / "fill.db"),
            "redis": (["--store", redis_url + "?namespace=fill"], redis_url),
        }
        where = {"memory": "", "sqlite": "SQLite files", "redis": "Redis used_memory"}
        for name, (flags, size) in fills.items():
            if name not in wanted:
                continue
            found = fill(flags, fill_s, pin, size)
            extra = f" + {found.store_mb:.1f} MB {where[name]}" if size is not None else ""
            print(
                f"  {name}: fake +{found.rss_mb:.1f} MB resident{extra} per 100,000 tasks "
                f"({found.tasks:,} created in {fill_s:g} s)"
            )
