"""The dashboard in Debian's chromium: live rows, working controls, no page errors.

The fake runs on a manual clock on a loopback port; the page polls every ``POLL_MS``; every
wait is Playwright's bounded ``expect`` (``WAIT_MS``), never a sleep.
"""

from __future__ import annotations

from importlib import resources

import pytest
from playwright.sync_api import Locator, Page, expect

from mock_server.settings import Settings
from mock_server.web.ui import handlers
from tests.conftest import seed_request
from tests.ui.conftest import WAIT_MS, Fake, Problems, dashboard_url

pytestmark = pytest.mark.socket


def row_status(page: Page, task_id: str) -> Locator:
    return page.locator(f'#task-rows tr[data-task-id="{task_id}"]').get_by_test_id("status")


def open_task(page: Page, task_id: str) -> None:
    page.get_by_role("button", name=f"open task {task_id}", exact=True).first.click()
    expect(page.locator("#detail-id")).to_have_text(task_id)


def test_a_task_created_through_the_api_turns_completed_without_a_reload(
    fake: Fake, page: Page, problems: Problems
) -> None:
    first = fake.create()
    page.goto(dashboard_url(fake))
    expect(row_status(page, first)).to_contain_text("pending")
    page.evaluate("window.sameDocument = true")
    second = fake.create(key="other-key")
    expect(row_status(page, second)).to_contain_text("pending")
    fake.advance(1000)
    assert fake.status(first) == "completed"
    expect(row_status(page, first)).to_contain_text("completed")
    expect(row_status(page, second)).to_contain_text("completed")
    assert page.evaluate("window.sameDocument") is True
    expect(page.get_by_test_id("live")).to_have_text("live")
    assert problems.errors == []


def test_the_check_catches_a_page_that_stops_following(
    fake: Fake, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broken counterpart: a page that fetches rows only once never turns completed."""
    static = resources.files("mock_server.web.ui") / "static"
    script = (static / "app.js").read_text(encoding="utf-8")
    assert "if (moved(poll)) {" in script
    broken = handlers.assemble(
        (static / "index.html").read_text(encoding="utf-8"),
        (static / "style.css").read_text(encoding="utf-8"),
        script.replace("if (moved(poll)) {", "if (!state.last) {"),
    )
    monkeypatch.setattr(handlers, "page", lambda: broken)
    task_id = fake.create()
    page.goto(dashboard_url(fake))
    expect(row_status(page, task_id)).to_contain_text("pending")
    fake.advance(1000)
    with pytest.raises(AssertionError):
        expect(row_status(page, task_id)).to_contain_text("completed", timeout=1000)


def test_the_error_collector_catches_a_throwing_page(
    fake: Fake, page: Page, problems: Problems, monkeypatch: pytest.MonkeyPatch
) -> None:
    static = resources.files("mock_server.web.ui") / "static"
    broken = handlers.assemble(
        (static / "index.html").read_text(encoding="utf-8"),
        (static / "style.css").read_text(encoding="utf-8"),
        'throw new Error("deliberately broken");',
    )
    monkeypatch.setattr(handlers, "page", lambda: broken)
    page.goto(dashboard_url(fake))
    page.wait_for_function("document.readyState === 'complete'", timeout=WAIT_MS)
    assert any("deliberately broken" in e for e in problems.errors), problems.errors


def test_the_controls_move_tasks_and_the_clock(fake: Fake, page: Page, problems: Problems) -> None:
    moved = fake.create()
    failing = fake.create()
    waiting = fake.create(scenario="pending:100")
    page.goto(dashboard_url(fake))
    expect(row_status(page, waiting)).to_contain_text("pending")

    open_task(page, moved)
    expect(page.locator(f'#task-rows tr[data-task-id="{moved}"]')).to_have_attribute(
        "aria-current", "true"
    )
    detail = page.get_by_test_id("detail-status")
    expect(detail).to_have_text("pending")
    page.get_by_role("button", name="Advance", exact=True).click()
    expect(detail).to_have_text("processing")
    expect(row_status(page, moved)).to_contain_text("processing")
    page.get_by_role("button", name="Complete", exact=True).click()
    expect(detail).to_have_text("completed")
    expect(page.get_by_role("button", name="Fail", exact=True)).to_be_disabled()
    expect(page.get_by_test_id("detail-answer")).to_contain_text('"status": "completed"')

    open_task(page, failing)
    page.get_by_label("Failure reason").select_option("content_policy")
    page.get_by_role("button", name="Fail", exact=True).click()
    expect(row_status(page, failing)).to_contain_text("failed")
    expect(page.get_by_test_id("detail-answer")).to_contain_text("content safety")

    open_task(page, waiting)
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(page.get_by_test_id("detail-answer")).to_contain_text("task canceled by user")
    assert fake.status(waiting) == "failed"  # --cancel-status failed (the default)

    before = fake.http.get("/_mock/clock").json()["now_ns"]
    shown = page.get_by_test_id("clock-now").inner_text()
    page.get_by_label("Advance by (s)").fill("30")
    page.get_by_role("button", name="Advance clock").click()
    expect(page.get_by_test_id("clock-now")).not_to_have_text(shown)
    assert fake.http.get("/_mock/clock").json()["now_ns"] == before + 30 * 10**9
    expect(page.get_by_test_id("clock-speed")).to_have_text("manual")
    expect(page.get_by_label("Speed factor")).to_be_disabled()

    page.get_by_label("Status").select_option("completed")
    expect(page.locator("#task-rows tr")).to_have_count(1)
    expect(row_status(page, moved)).to_contain_text("completed")
    assert problems.errors == []


#: WCAG relative-luminance contrast of an element's text against its (first opaque) background.
CONTRAST_JS = """
(selector) => {
  const channel = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const rgb = (text) => text.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (node) => {
    for (; node; node = node.parentElement) {
      const value = rgb(getComputedStyle(node).backgroundColor);
      if (value.length < 4 || value[3] > 0) return value.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)].map((node) => {
    const a = luminance(rgb(getComputedStyle(node).color)), b = luminance(background(node));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}
"""


def test_keyboard_labels_and_contrast(fake: Fake, page: Page, problems: Problems) -> None:
    task_id = fake.create()
    fake.create(scenario="fail-after:1")
    fake.advance(500)
    page.goto(dashboard_url(fake))
    expect(page.locator("#task-rows tr")).to_have_count(2)

    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, button, progress')]
              .filter((n) => !n.closest('[hidden]'))
              .filter((n) => !(n.labels && n.labels.length) && !n.getAttribute('aria-label')
                             && !n.textContent.trim())
              .map((n) => n.outerHTML)"""
    )
    assert unlabelled == []

    page.locator("body").focus()
    for _ in range(40):  # Tab through the page until the task's button has focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.taskId") == task_id:
            break
    else:
        pytest.fail("the task's button is not reachable with Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#detail-id")).to_have_text(task_id)
    expect(page.locator("#detail-heading")).to_be_focused()

    selectors = ["body", ".status", ".label", "th", ".task-link", "button:not(:disabled)", ".note"]
    ratios = {s: page.evaluate(CONTRAST_JS, s) for s in selectors}
    low = {s: [round(r, 2) for r in found if r < 4.5] for s, found in ratios.items()}
    assert all(ratios.values()), ratios
    assert not any(low.values()), low
    # The same measure flags a low-contrast pair (grey #999 on white is 2.85:1).
    page.evaluate("document.querySelector('.note').style.color = '#999'")
    assert min(page.evaluate(CONTRAST_JS, ".note")) < 4.5
    assert problems.errors == []


class TestControlToken:
    """With ``--control-token`` the page opens once with ``?token=`` and keeps working."""

    TOKEN = "s3cret-token"

    @pytest.fixture
    def fake_settings(self) -> Settings:
        return Settings(control_token=self.TOKEN)

    def test_the_page_works_behind_the_token(
        self, fake: Fake, page: Page, problems: Problems
    ) -> None:
        assert fake.http.get("/_mock/ui").status_code == 401
        assert fake.http.get("/_mock/ui?token=wrong").status_code == 401
        assert fake.http.get("/_mock/ui/api/poll?token=" + self.TOKEN).status_code == 401
        headers = {"x-mock-control-token": self.TOKEN}
        task_id = fake.create()
        page.goto(dashboard_url(fake, f"&token={self.TOKEN}"))
        expect(row_status(page, task_id)).to_contain_text("pending")
        assert "token" not in page.url
        assert page.evaluate("sessionStorage.getItem('piapi-mock-control-token')") == self.TOKEN
        assert fake.http.post("/_mock/clock/advance", json={"seconds": 1000}, headers=headers)
        expect(row_status(page, task_id)).to_contain_text("completed")
        page.reload()
        expect(row_status(page, task_id)).to_contain_text("completed")
        open_task(page, task_id)  # a control call from the page, with the header
        assert problems.errors == []

    def test_a_wrong_token_asks_for_the_right_one(
        self, fake: Fake, page: Page, problems: Problems
    ) -> None:
        task_id = fake.create()
        page.goto(dashboard_url(fake, f"&token={self.TOKEN}"))
        expect(row_status(page, task_id)).to_contain_text("pending")
        page.context.clear_cookies()
        page.evaluate("sessionStorage.setItem('piapi-mock-control-token', 'stale')")
        expect(page.get_by_label("Control token")).to_be_visible()
        expect(page.get_by_test_id("live")).to_have_text("control token needed")
        page.get_by_label("Control token").fill(self.TOKEN)
        page.get_by_role("button", name="Use token").click()
        expect(page.get_by_test_id("live")).to_have_text("live")
        assert not [e for e in problems.errors if e.startswith("pageerror")]


def test_show_more_pages_in_fifties(fake: Fake, page: Page, problems: Problems) -> None:
    ids = [fake.create() for _ in range(51)]
    page.goto(dashboard_url(fake))
    rows = page.locator("#task-rows tr")
    expect(rows).to_have_count(50)
    expect(page.locator(f'#task-rows tr[data-task-id="{ids[0]}"]')).to_have_count(0)
    page.get_by_role("button", name="Show more").click()
    expect(rows).to_have_count(51)
    expect(page.get_by_role("button", name="Show more")).to_be_hidden()
    assert problems.errors == []


def test_webhook_attempts_and_redeliver(fake: Fake, page: Page, problems: Problems) -> None:
    body = seed_request()
    body["config"]["webhook_config"]["endpoint"] = "http://127.0.0.1:9/hook"  # refused
    answer = fake.http.post("/api/v1/task", json=body, headers={"x-api-key": "hook-key"})
    task_id = answer.json()["data"]["task_id"]
    page.goto(dashboard_url(fake, f"#task={task_id}"))
    attempts = page.get_by_test_id("attempts").locator("tbody tr")
    expect(attempts.first).to_contain_text("pending")
    expect(attempts.first).to_contain_text("ConnectError")
    before = attempts.count()
    page.get_by_role("button", name="Redeliver latest event").click()
    expect(page.get_by_test_id("message")).to_contain_text("redelivery queued: pending")
    expect(attempts).to_have_count(before + 1)
    expect(attempts.last).to_contain_text("(again)")
    assert problems.errors == []
