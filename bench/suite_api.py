"""API load: the fake against a bare Starlette endpoint on the same stack, same run (issue 13).

The fake runs as ``piapi-mock serve`` runs it (``bench.servers.fake_server``: uvicorn on uvloop
+ httptools, GC policy included) and the baseline (``bench/bare_app.py``) on the same uvicorn
configuration, answering bodies of the fake's sizes; each server is pinned to one core and wrk
(one thread, 32 connections) to the other. Cases, each a ratio or a bound measured in this run:

- **create / get**: ``POST /api/v1/task`` with the seed's body and ``GET /api/v1/task/{id}``
  cycling over 300 completed tasks, fake and bare alternating for a few rounds (medians).
  Targets: create >= 0.55x, get >= 0.8x the baseline, p99 < 10 ms.
- **video_generation vs omni** (issue 10): the same on one fake with a documented
  ``kling/video_generation`` body, against omni, alternating; target within 5% (>= 0.95x).
  Skipped, with the reason, while the fake has no ``kling-video_generation`` pack.
- **sustained create**: one long wrk run on a fresh fake (``--sustained SECONDS``, default 60;
  0 skips), p99 < 10 ms; and the server's resident memory per 100,000 tasks it created.

``python -m bench api --store URL --workers 2`` (or :func:`run_cases` with ``flags``) runs the
same cases on a fake started with those ``serve`` flags: the hook for per-store figures.
Tunable: ``--seconds`` (per run, default 3), ``--rounds`` (default 3); as variables
``PIAPI_BENCH_SECONDS``, ``PIAPI_BENCH_ROUNDS``, ``PIAPI_BENCH_SUSTAINED``,
``PIAPI_BENCH_STORE``, ``PIAPI_BENCH_WORKERS``. Every server is stopped however the run ends.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bench.servers import Pinning, Server, bare_server, fake_server, pinning, rss_kb
from bench.wrk import (
    CONNECTIONS,
    KEY,
    MARK,
    WrkResult,
    distinct_post_script,
    get_script,
    post_script,
    wrk,
    wrk_path,
)
from mock_server.resources import schemas_dir
from mock_server.server import stack

ROOT: Final = Path(__file__).resolve().parent.parent
SEED_REQUEST: Final = ROOT / "fixtures" / "examples" / "seed-request.json"
VG_PACK: Final = "kling-video_generation"
VG_EXAMPLE: Final = "documented-3.0.json"
GET_TASKS: Final = 300
TARGETS: Final = {"create": 0.55, "get": 0.8}
VG_TARGET: Final = 0.95
P99_TARGET_MS: Final = 10.0


@dataclass(frozen=True, slots=True)
class Options:
    """How long and against what the suite runs."""

    seconds: float = 3.0
    rounds: int = 3
    sustained: float = 60.0
    store: str = ""
    workers: int = 1

    @property
    def flags(self) -> list[str]:
        """The ``serve`` flags these options add."""
        flags = ["--store", self.store] if self.store else []
        return flags + (["--workers", str(self.workers)] if self.workers > 1 else [])

    @property
    def label(self) -> str:
        """What the fake runs on, for the report."""
        store = self.store or "memory://"
        return store + (f", {self.workers} workers" if self.workers > 1 else "")


def options_from_env(environ: dict[str, str] | None = None) -> Options:
    """Options from ``PIAPI_BENCH_*`` variables (``python -m bench`` sets them from flags)."""
    env = os.environ if environ is None else environ
    return Options(
        seconds=float(env.get("PIAPI_BENCH_SECONDS", "3")),
        rounds=int(env.get("PIAPI_BENCH_ROUNDS", "3")),
        sustained=float(env.get("PIAPI_BENCH_SUSTAINED", "60")),
        store=env.get("PIAPI_BENCH_STORE", ""),
        workers=int(env.get("PIAPI_BENCH_WORKERS", "1")),
    )


@dataclass(slots=True)
class Figures:
    """What one :func:`run_cases` measured (``None``: the case was skipped)."""

    label: str
    results: dict[tuple[str, str], WrkResult] = field(default_factory=dict)
    vg: dict[tuple[str, str], WrkResult] | None = None
    sustained: WrkResult | None = None
    rss_mb_per_100k: float | None = None
    notes: list[str] = field(default_factory=list)

    def ratio(self, route: str) -> float:
        """Fake over bare requests per second on ``route``."""
        return self.results[(route, "fake")].rps / self.results[(route, "bare")].rps


# -- bodies and calls ----------------------------------------------------------------------


def request_body(path: Path = SEED_REQUEST) -> bytes:
    """A request body, compact, without a webhook endpoint (the bench stays on loopback)."""
    body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    hook = (body.get("config") or {}).get("webhook_config")
    if hook:
        hook["endpoint"] = ""
    return json.dumps(body, separators=(",", ":")).encode()


def vg_body() -> bytes | None:
    """A documented ``kling/video_generation`` body, or None while that pack does not exist."""
    valid = schemas_dir() / "packs" / VG_PACK / "examples" / "valid"
    if not valid.is_dir():
        return None
    chosen = valid / VG_EXAMPLE
    if not chosen.is_file():
        found = sorted(valid.glob("*.json"))
        if not found:
            return None
        chosen = found[0]
    return request_body(chosen)


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
        raise RuntimeError(f"{method} {path}: HTTP {response.status}: {data[:300]!r}")
    return data


@dataclass(frozen=True, slots=True)
class Load:
    """The wrk scripts of one body against one fake, and the sizes of its answers."""

    create: Path
    get: Path
    create_bytes: int
    get_bytes: int
    #: Creates whose bodies all differ (a new prompt each request: the memo never hits).
    distinct: Path


def prepare(server: Server, body: bytes, folder: Path, tag: str) -> Load:
    """Create :data:`GET_TASKS` tasks from ``body``, let them complete, write the scripts."""
    created = [call(server.port, "POST", "/api/v1/task", body) for _ in range(GET_TASKS)]
    ids = [json.loads(answer)["data"]["task_id"] for answer in created]
    time.sleep(0.3)  # at --speed 1000 every task is completed (~110 virtual s) by now
    get_bytes = len(call(server.port, "GET", f"/api/v1/task/{ids[0]}"))
    load = Load(
        folder / f"{tag}-post.lua",
        folder / f"{tag}-get.lua",
        len(created[0]),
        get_bytes,
        folder / f"{tag}-distinct.lua",
    )
    load.create.write_text(post_script(body))
    load.get.write_text(get_script(ids))
    load.distinct.write_text(distinct_post_script(numbered(body)))
    return load


def numbered(body: bytes) -> bytes:
    """``body`` with :data:`bench.wrk.MARK` appended to its prompt (wrk numbers it)."""
    data: dict[str, Any] = json.loads(body)
    data["input"]["prompt"] = f"{data['input'].get('prompt', '')} {MARK}"
    return json.dumps(data, separators=(",", ":")).encode()


# -- measuring -----------------------------------------------------------------------------


def _median(results: list[WrkResult]) -> WrkResult:
    return WrkResult(
        statistics.median(r.rps for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.requests for r in results),
        sum(r.errors for r in results),
        statistics.median(r.cpu_us for r in results),
    )


def alternate(
    runs: dict[tuple[str, str], tuple[Server, Path]], options: Options, pin: Pinning
) -> dict[tuple[str, str], WrkResult]:
    """Medians per key over ``options.rounds`` rounds, every key once per round, in turn."""
    for server, script in runs.values():
        wrk(server, script, 1, pin)  # warm-up
    results: dict[tuple[str, str], list[WrkResult]] = {}
    for _ in range(options.rounds):
        for key, (server, script) in runs.items():
            results.setdefault(key, []).append(wrk(server, script, options.seconds, pin))
    return {key: _median(found) for key, found in results.items()}


def _vg_case(fake: Server, omni: Load, folder: Path, options: Options, pin: Pinning) -> Any:
    body = vg_body()
    if body is None:
        return f"no {VG_PACK} pack in {schemas_dir() / 'packs'} yet"
    try:
        vg = prepare(fake, body, folder, "vg")
    except RuntimeError as exc:
        return f"the fake refuses the {VG_PACK} example: {exc}"
    runs = {
        ("create", "omni"): (fake, omni.create),
        ("create", "vg"): (fake, vg.create),
        ("get", "omni"): (fake, omni.get),
        ("get", "vg"): (fake, vg.get),
    }
    return alternate(runs, options, pin)


def _sustained(flags: Sequence[str], options: Options, pin: Pinning) -> tuple[WrkResult, float]:
    """One long create run on a fresh fake; its result and resident MB per 100,000 tasks."""
    body = request_body()
    with fake_server(flags, pin.server) as fake, tempfile.TemporaryDirectory() as tmp:
        call(fake.port, "POST", "/api/v1/task", body)  # everything imported and warm
        script = Path(tmp) / "post.lua"
        script.write_text(post_script(body))
        before = rss_kb(fake.pid)
        result = wrk(fake, script, options.sustained, pin)
        grown = rss_kb(fake.pid) - before
    created = max(1, result.requests - result.errors)
    return result, grown / 1024 / created * 100_000


def run_cases(
    flags: Sequence[str] = (), options: Options | None = None, label: str = ""
) -> Figures:
    """Every case against a fake started with ``serve`` ``flags``; prints and returns figures."""
    options = options or options_from_env()
    pin = pinning()
    figures = Figures(label or options.label)
    print(f"  fake on {figures.label}; uvicorn ({stack()}), one process per server")
    print(f"  {pin.describe()}; wrk -t1 -c{CONNECTIONS}, {options.rounds} x {options.seconds:g} s")
    print("  " + load_note())
    # Uncapped: at --max-tasks 100000 (the default) the creates of later rounds would evict
    # the tasks the get rounds read, which would then answer 404 (the sustained run keeps it).
    main_flags = [*flags, "--max-tasks", "0"]
    with tempfile.TemporaryDirectory() as tmp, fake_server(main_flags, pin.server) as fake:
        omni = prepare(fake, request_body(), Path(tmp), "omni")
        with bare_server(omni.create_bytes, omni.get_bytes, pin.server) as bare:
            runs = {
                ("create", "fake"): (fake, omni.create),
                ("create", "bare"): (bare, omni.create),
                ("get", "fake"): (fake, omni.get),
                ("get", "bare"): (bare, omni.get),
                ("distinct", "fake"): (fake, omni.distinct),
            }
            figures.results = alternate(runs, options, pin)
        report_main(figures, (omni.create_bytes, omni.get_bytes))
        report_distinct(figures)
        vg = _vg_case(fake, omni, Path(tmp), options, pin)
    if isinstance(vg, str):
        print(f"  video_generation vs omni: SKIPPED: {vg}")
    else:
        figures.vg = vg
        report_vg(vg)
    if options.sustained > 0:
        figures.sustained, figures.rss_mb_per_100k = _sustained(flags, options, pin)
        report_sustained(figures, options.sustained)
    else:
        print("  sustained create: SKIPPED (--sustained 0)")
    print("  " + load_note())
    return figures


def load_note(load: tuple[float, float, float] | None = None, cpus: int | None = None) -> str:
    """The machine's load average, with a warning when other work competes for the CPUs."""
    if load is None:
        load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    cpus = cpus or os.cpu_count() or 1
    note = f"load average {load[0]:.1f} on {cpus} CPUs"
    if load[0] > cpus:
        note += ": other work competes for the CPUs, rates and p99 are unreliable (CPU/req less so)"
    return note


# -- reporting -----------------------------------------------------------------------------


def _ok(passed: bool) -> str:
    return "ok" if passed else "MISSED"


def report_main(figures: Figures, sizes: tuple[int, int]) -> None:
    """The create and get table, with the verdicts."""
    print(f"  response bytes: create {sizes[0]}, get {sizes[1]}")
    print(f"  {'':8}{'fake req/s':>12}{'bare req/s':>12}{'ratio':>8}{'target':>8}", end="")
    print(f"{'fake p99':>11}{'bare p99':>11}{'CPU/req fake':>14}{'bare':>7}{'ratio':>7}")
    verdicts = []
    for route, target in TARGETS.items():
        fake, bare = figures.results[(route, "fake")], figures.results[(route, "bare")]
        ratio = figures.ratio(route)
        print(f"  {route:8}{fake.rps:>12,.0f}{bare.rps:>12,.0f}{ratio:>8.2f}{target:>8.2f}", end="")
        print(f"{fake.p99_ms:>8.2f} ms{bare.p99_ms:>8.2f} ms", end="")
        cpu_ratio = bare.cpu_us / fake.cpu_us if fake.cpu_us else 0.0
        print(f"{fake.cpu_us:>11.0f} us{bare.cpu_us:>7.0f}{cpu_ratio:>7.2f}")
        verdicts.append(f"{route} {_ok(ratio >= target)}")
        verdicts.append(f"{route} p99 {_ok(fake.p99_ms < P99_TARGET_MS)}")
        if fake.errors or bare.errors:
            print(f"  ! {route}: {fake.errors} fake / {bare.errors} bare failed requests")
    print("  targets: " + ", ".join(verdicts))
    print("  (CPU/req: server CPU time per request; its ratio barely moves with other load)")


def report_distinct(figures: Figures) -> None:
    """Creates whose bodies all differ, against the same bare create (no target)."""
    new, bare = figures.results[("distinct", "fake")], figures.results[("create", "bare")]
    cpu = bare.cpu_us / new.cpu_us if new.cpu_us else 0.0
    print(
        f"  create, every body new: {new.rps:,.0f} req/s = {new.rps / bare.rps:.2f}x bare "
        f"(CPU/req {new.cpu_us:.0f} us, {cpu:.2f}), p99 {new.p99_ms:.2f} ms; no target: each "
        "body is parsed and judged (the create row resends one body, as a load test does)"
    )
    if new.errors:
        print(f"  ! every body new: {new.errors} failed requests")


def report_vg(vg: dict[tuple[str, str], WrkResult]) -> None:
    """video_generation against omni on the same fake."""
    verdicts = []
    for route in ("create", "get"):
        omni, other = vg[(route, "omni")], vg[(route, "vg")]
        ratio = other.rps / omni.rps
        print(
            f"  video_generation {route}: {other.rps:,.0f} req/s (p99 {other.p99_ms:.2f} ms) "
            f"vs omni {omni.rps:,.0f} (p99 {omni.p99_ms:.2f} ms): {ratio:.2f}x"
        )
        verdicts.append(f"{route} {_ok(ratio >= VG_TARGET)}")
        if omni.errors or other.errors:
            print(f"  ! {route}: {other.errors} video_generation / {omni.errors} omni failed")
    print(f"  target (issue 10): within 5% of omni: {', '.join(verdicts)}")


def report_sustained(figures: Figures, seconds: float) -> None:
    """The long create run and resident memory per 100,000 tasks."""
    result = figures.sustained
    assert result is not None
    print(
        f"  sustained create, {seconds:g} s on a fresh fake: {result.rps:,.0f} req/s, "
        f"p99 {result.p99_ms:.2f} ms ({_ok(result.p99_ms < P99_TARGET_MS)}), "
        f"{result.requests:,} tasks, {result.errors} failed"
    )
    print(f"  server resident memory: +{figures.rss_mb_per_100k:.1f} MB per 100,000 tasks")


def run() -> None:
    """Every case on the store the options name (default ``memory://``)."""
    if not wrk_path():
        print("  SKIPPED: wrk is not installed (apt-get install wrk; `make bench` tries to).")
        return
    options = options_from_env()
    run_cases(options.flags, options)
