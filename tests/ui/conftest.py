"""Real-browser fixtures: Debian's chromium driven by Playwright, the fake on a loopback port.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium`` (or
``PIAPI_CHROMIUM``). A missing chromium fails these tests loudly instead of skipping them;
``make system-deps`` (run by ``.ci/run``) installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, sync_playwright

from contract_tests.server import ServerThread
from mock_server.settings import Settings
from tests.conftest import seed_request

CHROMIUM = os.environ.get("PIAPI_CHROMIUM", "/usr/bin/chromium")
#: Every wait in a browser test is bounded by this (milliseconds); nothing sleeps.
WAIT_MS = 5000
#: The page's poll interval in the tests (ms): the page reacts within a poll.
POLL_MS = 150


def chromium_path() -> str:
    """The chromium binary, or a failure that says how to install it (never a skip)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"chromium not found at {CHROMIUM}: run `make system-deps` (apt-get install chromium)"
            " or set PIAPI_CHROMIUM",
            pytrace=False,
        )
    return CHROMIUM


# Module scope, not session: while Playwright's sync driver is open its event loop counts as
# running in this thread, so async tests of other modules could not start theirs.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(
        executable_path=chromium_path(), args=["--no-sandbox", "--disable-dev-shm-usage"]
    )
    yield launched
    launched.close()


@dataclass
class Problems:
    """What went wrong in the page: uncaught errors and console errors."""

    errors: list[str] = field(default_factory=list)

    def on_page_error(self, error: Error) -> None:
        self.errors.append(f"pageerror: {error.message}")

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console.error: {message.text}")


@dataclass
class Fake:
    """The fake under test: its server thread and an HTTP client for the API and /_mock."""

    thread: ServerThread
    http: httpx.Client

    @property
    def url(self) -> str:
        return self.thread.base_url

    def create(self, key: str = "ui-key", scenario: str = "") -> str:
        """Create a task through the API (no webhook); its id."""
        body: dict[str, Any] = seed_request()
        body["config"]["webhook_config"]["endpoint"] = ""
        headers = {"x-api-key": key, **({"x-mock-scenario": scenario} if scenario else {})}
        answer = self.http.post("/api/v1/task", json=body, headers=headers)
        assert answer.status_code == 200, answer.text
        task_id: str = answer.json()["data"]["task_id"]
        return task_id

    def advance(self, seconds: float) -> None:
        answer = self.http.post("/_mock/clock/advance", json={"seconds": seconds})
        assert answer.status_code == 200, answer.text

    def status(self, task_id: str) -> str:
        status: str = self.http.get(f"/_mock/tasks/{task_id}").json()["task"]["status"]
        return status


@pytest.fixture
def fake_settings() -> Settings:
    """Override in a module to change the served fake's settings."""
    return Settings()


@pytest.fixture
def fake(fake_settings: Settings) -> Iterator[Fake]:
    thread = ServerThread(fake_settings)
    http = httpx.Client(base_url=thread.base_url, timeout=10)
    try:
        yield Fake(thread, http)
    finally:
        http.close()
        thread.close()


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.fixture
def page(browser: Browser, problems: Problems) -> Iterator[Page]:
    """A fresh page (own context: own sessionStorage) that records page and console errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    opened.on("pageerror", problems.on_page_error)
    opened.on("console", problems.on_console)
    yield opened
    context.close()


def dashboard_url(fake: Fake, extra: str = "") -> str:
    """The dashboard of ``fake`` with the tests' quick poll."""
    return f"{fake.url}/_mock/ui?poll={POLL_MS}{extra}"
