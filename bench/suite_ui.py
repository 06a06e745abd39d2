"""The dashboard's cost: API throughput with ``/_mock/ui`` open against none (issue 14 item 2).

One fake (``bench.servers.fake_server``, ``piapi-mock serve`` in one process) takes the same
``wrk`` load (32 connections, ``GET /api/v1/task/{id}`` over a few hundred tasks, then ``POST
/api/v1/task``) in alternating runs (ABBA): once with the dashboard open in headless Debian
chromium at its default poll (1 s), once with that browser on ``about:blank``. While the load
runs, tasks are created and the journal grows, so the page refetches its panels on every poll:
the worst case. Target: the open page keeps >= 0.95 of the requests per second.

Without chromium or Playwright the same requests the page makes are sent by a thread at the
same rate (a simulated poller), and the report says so. Tunable by environment:
``PIAPI_BENCH_SECONDS`` (per run, default 3), ``PIAPI_BENCH_ROUNDS`` (pairs, default 3),
``PIAPI_BENCH_UI_VIEWER=poller`` (the simulated poller even when chromium is there).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Final

from bench import wrk as wrk_runs
from bench.servers import Pinning, Server, fake_server
from bench.suite_api import GET_TASKS, call, load_note, request_body
from bench.wrk import WrkResult, get_script, post_script


def wrk(wrk_path: str, server: Server, script: Path, seconds: float) -> WrkResult:
    """One wrk run, unpinned (the browser needs a core too)."""
    return wrk_runs.wrk(server, script, seconds, Pinning("", ""))


CHROMIUM: Final = os.environ.get("PIAPI_CHROMIUM", "/usr/bin/chromium")
TARGET: Final = 0.95
POLL_S: Final = 1.0
#: Idle wall seconds before every run: opening the page takes about this long, and a run
#: after an idle gap is faster on a shared machine, so "none" runs get the same gap.
SETTLE_S: Final = 1.5
#: What the page asks for on a poll when something moved (see static/app.js ``refreshAll``).
PAGE_REQUESTS: Final = (
    "/_mock/ui/api/poll",
    "/_mock/ui/api/tasks?limit=50",
    "/_mock/scenarios",
    "/_mock/ui/api/accounts",
    "/_mock/ui/api/journal?limit=30",
)


class Viewer(contextlib.AbstractContextManager["Viewer"]):
    """Something that looks at the dashboard (or not) while the load runs."""

    kind = "none"

    def show(self, page: bool) -> None:
        """Open the dashboard (``page``) or look away; count control requests from now on."""

    def count(self) -> int:
        """Control requests made since :meth:`show`."""
        return 0

    def __exit__(self, *exc: object) -> None:
        return None


class BrowserViewer(Viewer):
    """The real page in headless chromium (Playwright, never a downloaded browser)."""

    kind = "headless chromium"

    def __init__(self, port: int) -> None:
        from playwright.sync_api import sync_playwright

        self.url = f"http://127.0.0.1:{port}/_mock/ui"
        self._driver = sync_playwright().start()
        args = ["--no-sandbox", "--disable-dev-shm-usage"]
        self._browser = self._driver.chromium.launch(executable_path=CHROMIUM, args=args)
        self.page = self._browser.new_page()

    def show(self, page: bool) -> None:
        if not page:
            self.page.goto("about:blank")
            return
        self.page.goto(self.url)
        self.page.wait_for_selector("#live:text('live')", timeout=10_000)
        self.page.evaluate("performance.setResourceTimingBufferSize(100000)")
        self.page.evaluate("performance.clearResourceTimings()")

    def count(self) -> int:
        entries = "performance.getEntriesByType('resource')"
        found: int = self.page.evaluate(f"{entries}.filter(e => e.name.includes('/_mock/')).length")
        return found

    def __exit__(self, *exc: object) -> None:
        self._browser.close()
        self._driver.stop()


class PollerViewer(Viewer):
    """A thread sending the page's requests at its poll rate (no browser available)."""

    kind = "simulated poller (no chromium)"

    def __init__(self, port: int) -> None:
        self.port = port
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._count = 0

    def _run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self._stop.wait(POLL_S):
            for path in PAGE_REQUESTS:
                connection.request("GET", path)
                connection.getresponse().read()
                self._count += 1
        connection.close()

    def show(self, page: bool) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self._count = 0
        if page:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def count(self) -> int:
        return self._count

    def __exit__(self, *exc: object) -> None:
        self.show(False)


def viewer_for(port: int) -> Viewer:
    """The browser if chromium and Playwright are here, else the simulated poller."""
    if os.environ.get("PIAPI_BENCH_UI_VIEWER") == "poller":
        return PollerViewer(port)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return PollerViewer(port)
    if not Path(CHROMIUM).is_file():
        return PollerViewer(port)
    return BrowserViewer(port)


def _measure(
    wrk_path: str, server: Server, viewer: Viewer, script: Path, seconds: float, rounds: int
) -> tuple[dict[str, list[WrkResult]], list[float]]:
    """ABBA runs of one script: results per mode, and the page's control requests per second."""
    runs: dict[str, list[WrkResult]] = {"none": [], "page": []}
    rates: list[float] = []
    wrk(wrk_path, server, script, 1)  # warm-up
    for i in range(rounds):
        for mode in ("none", "page") if i % 2 == 0 else ("page", "none"):
            viewer.show(mode == "page")
            time.sleep(SETTLE_S)  # the same idle gap before every run, page or not
            before = viewer.count()
            runs[mode].append(wrk(wrk_path, server, script, seconds))
            if mode == "page":
                rates.append((viewer.count() - before) / seconds)
    viewer.show(False)
    return runs, rates


def _report(route: str, runs: dict[str, list[WrkResult]], rates: list[float]) -> str:
    none = statistics.median(r.rps for r in runs["none"])
    page = statistics.median(r.rps for r in runs["page"])
    cpu_none = statistics.median(r.cpu_us for r in runs["none"])
    cpu_page = statistics.median(r.cpu_us for r in runs["page"])
    ratio = page / none if none else 0.0
    errors = sum(r.errors for results in runs.values() for r in results)
    print(
        f"  {route:7}{none:>12,.0f}{page:>12,.0f}{ratio:>8.3f}{TARGET:>8.2f}"
        f"{cpu_none:>11.0f} us{cpu_page:>7.0f} us{statistics.median(rates):>12.1f}"
    )
    for mode in ("none", "page"):
        print(
            f"  {'':7}{mode} runs (req/s, in order): "
            + " ".join(f"{r.rps:,.0f}" for r in runs[mode])
        )
    if errors:
        print(f"  ! {route}: {errors} failed requests")
    return f"{route} {'ok' if ratio >= TARGET else 'MISSED'}"


async def _cycles(tasks: int, cycles: int) -> float:
    import httpx

    from mock_server.domain.backend import manual_backend
    from mock_server.settings import Settings
    from mock_server.web.app import create_asgi

    backend, clock = manual_backend(Settings())
    create: dict[str, Any] = json.loads(request_body())
    for i in range(tasks):
        backend.create(f"key-{i % 7}", create, "http://127.0.0.1")
        if i % 100 == 0:
            clock.advance(1)
    transport = httpx.ASGITransport(app=create_asgi(backend=backend))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for path in PAGE_REQUESTS:  # warm-up
            (await client.get(path)).raise_for_status()
        started = time.process_time()
        for _ in range(cycles):
            for path in PAGE_REQUESTS:
                await client.get(path)
        return (time.process_time() - started) / cycles


def cycle_cost(tasks: int = 20_000, cycles: int = 40) -> float:
    """CPU seconds of one poll that refetches every panel, over ``tasks`` tasks, in-process.

    An upper bound of the server's share: the client half of httpx's ASGI transport runs in
    the same process and is counted too. CPU time, so it moves little with other load.
    """
    return asyncio.run(_cycles(tasks, cycles))


def run() -> None:
    """Load the fake with and without the dashboard open; print the throughput ratio."""
    cost = cycle_cost()
    share = cost / POLL_S
    print(
        f"  one full refresh (poll + 4 reads, 20,000 tasks) costs {cost * 1e3:.2f} ms CPU "
        f"in-process: at one poll per {POLL_S:g} s at most {share:.2%} of one core "
        f"(target < 5%) {'ok' if share < 0.05 else 'MISSED'}"
    )
    wrk_path = shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else "")
    if not wrk_path:
        print("  SKIPPED: wrk is not installed (apt-get install wrk; `make bench` tries to).")
        return
    seconds = float(os.environ.get("PIAPI_BENCH_SECONDS", "3"))
    rounds = 2 * int(os.environ.get("PIAPI_BENCH_ROUNDS", "3"))
    body = request_body()
    with tempfile.TemporaryDirectory() as tmp, fake_server() as fake:
        ids = [_created(fake.port, body) for _ in range(GET_TASKS)]
        scripts = {"get": Path(tmp) / "get.lua", "create": Path(tmp) / "post.lua"}
        scripts["get"].write_text(get_script(ids))
        scripts["create"].write_text(post_script(body))
        with viewer_for(fake.port) as viewer:
            print(f"  page: {viewer.kind}, poll {POLL_S:g} s; {rounds} runs of {seconds:g} s each")
            print(
                f"  {'':7}{'none req/s':>12}{'page req/s':>12}{'ratio':>8}{'target':>8}"
                f"{'CPU/req none':>14}{'page':>10}{'page req/s':>12}"
            )
            print("  " + load_note())
            verdicts = [
                _report(route, *_measure(wrk_path, fake, viewer, script, seconds, rounds))
                for route, script in scripts.items()
            ]
            print("  " + load_note())
    print("  targets: " + ", ".join(verdicts))
    print("  (page req/s: the dashboard's own /_mock requests per second while it was open)")


def _created(port: int, body: bytes) -> str:
    answer: dict[str, Any] = json.loads(call(port, "POST", "/api/v1/task", body))
    task_id: str = answer["data"]["task_id"]
    return task_id
