"""``make screenshot``: the dashboard with a few tasks in every status, as ``docs/dashboard.png``.

Starts the fake on a loopback port with a manual clock (``ServerThread``), creates tasks
through the API (one completes, one fails, one is cancelled, one is processing, one waits),
opens ``/_mock/ui`` in Debian's chromium through Playwright and writes the PNG. Nothing is
downloaded: Playwright launches ``/usr/bin/chromium`` (``PIAPI_CHROMIUM`` overrides it).
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path
from typing import Any, Final

import httpx

ROOT: Final = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contract_tests import idle  # noqa: E402
from contract_tests.server import ServerThread  # noqa: E402
from mock_server.settings import Settings  # noqa: E402

OUT: Final = ROOT / "docs" / "dashboard.png"
SEED: Final = ROOT / "fixtures" / "examples" / "seed-request.json"
CHROMIUM: Final = os.environ.get("PIAPI_CHROMIUM", "/usr/bin/chromium")


def body(prompt: str, *, duration: int = 5, hook: str = "") -> dict[str, Any]:
    """The seed's request with another prompt, duration and webhook endpoint."""
    request: dict[str, Any] = copy.deepcopy(json.loads(SEED.read_text(encoding="utf-8")))
    request["input"]["prompt"] = prompt
    request["input"]["duration"] = duration
    request["config"]["webhook_config"]["endpoint"] = hook
    return request


def populate(server: ServerThread) -> str:
    """Tasks in every status; the id of the one to show in the detail panel."""
    http = httpx.Client(base_url=server.base_url, timeout=10)
    alice, bob = {"x-api-key": "alice-key"}, {"x-api-key": "bob-key"}

    def create(headers: dict[str, str], request: dict[str, Any], scenario: str = "") -> str:
        extra = {"x-mock-scenario": scenario} if scenario else {}
        answer = http.post("/api/v1/task", json=request, headers={**headers, **extra})
        answer.raise_for_status()
        task_id: str = answer.json()["data"]["task_id"]
        return task_id

    refused = "http://127.0.0.1:9/hook"  # nothing listens: the attempts show the error
    shown = create(alice, body("A lighthouse at dawn, slow dolly-in", hook=refused))
    create(bob, body("Rain on a tin roof, macro"), "fail-after:20:content_policy")
    http.post("/_mock/clock/advance", json={"seconds": 200}).raise_for_status()
    server.call(idle.deliver_due, server.backend)
    create(alice, body("A paper boat in a gutter stream", duration=10), "complete-after:120")
    create(bob, body("Neon street, night, handheld"), "pending:90")
    cancelled = create(alice, body("Snow falling in a pine forest"), "pending:60")
    http.delete(f"/api/v1/task/{cancelled}", headers=alice).raise_for_status()
    http.post("/_mock/clock/advance", json={"seconds": 45}).raise_for_status()
    create(bob, body("Time-lapse of clouds over hills"), "stuck")
    http.post(
        "/_mock/rules", json={"scenario": "fail:content_policy", "times": 2}
    ).raise_for_status()
    http.post("/_mock/faults", json={"fault": "latency:50-200", "on": "get"}).raise_for_status()
    http.get(f"/api/v1/task/{shown}", headers=alice)
    http.get("/account/info", headers=bob)
    http.close()
    return shown


def main(argv: list[str]) -> int:
    """Write ``docs/dashboard.png`` (or the path given as the one argument)."""
    from playwright.sync_api import expect, sync_playwright

    out = Path(argv[0]).resolve() if argv else OUT

    server = ServerThread(Settings(credits_usd=50.0, webhook_retry_delay=5.0))
    try:
        shown = populate(server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{server.base_url}/_mock/ui?poll=200#task={shown}")
            expect(page.get_by_test_id("detail-status")).to_contain_text("completed")
            expect(page.locator("#task-rows tr")).to_have_count(6)
            page.screenshot(path=str(out), full_page=True)
            browser.close()
    finally:
        server.close()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
