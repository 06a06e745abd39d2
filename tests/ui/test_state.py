"""The dashboard's JSON reads, in-process: bounded work, filters, counters, errors, the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import httpx
import pytest

from mock_server.domain.backend import Backend
from mock_server.domain.clock import ManualClock
from mock_server.domain.models import TaskRecord
from mock_server.settings import Settings
from mock_server.stores.memory import MemoryStore
from mock_server.web.app import create_asgi
from mock_server.web.ui import handlers as ui_routes
from mock_server.web.ui import state
from tests.conftest import BASE_URL, KEY, seed_request

pytestmark = pytest.mark.anyio


class CountingStore(MemoryStore):
    """A memory store that counts the records handed out by iteration."""

    def __init__(self) -> None:
        super().__init__()
        self.handed = 0

    def __bool__(self) -> bool:
        return True  # Backend() takes ``store or MemoryStore()``: an empty store is falsy

    def _count(self, records: Iterator[TaskRecord]) -> Iterator[TaskRecord]:
        for record in records:
            self.handed += 1
            yield record

    def __iter__(self) -> Iterator[TaskRecord]:
        return self._count(super().__iter__())

    def __reversed__(self) -> Iterator[TaskRecord]:
        return self._count(super().__reversed__())


class NoReverseStore(CountingStore):
    """A store without ``__reversed__``: the page must copy it (the broken case)."""

    __reversed__ = None  # type: ignore[assignment]


async def create(client: httpx.AsyncClient, key: str = "test-key", scenario: str = "") -> str:
    headers = {"x-api-key": key, **({"x-mock-scenario": scenario} if scenario else {})}
    answer = await client.post("/api/v1/task", json=seed_request(), headers=headers)
    assert answer.status_code == 200, answer.text
    task_id: str = answer.json()["data"]["task_id"]
    return task_id


def client_for(backend: Backend) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_asgi(backend=backend))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


async def test_a_task_page_reads_only_the_newest_records() -> None:
    store = CountingStore()
    backend = Backend(Settings(), clock=ManualClock(), store=store)
    async with client_for(backend) as client:
        ids = [await create(client) for _ in range(60)]
        store.handed = 0
        page = (await client.get("/_mock/ui/api/tasks?limit=5")).json()
    assert [row["task_id"] for row in page["tasks"]] == ids[::-1][:5]
    assert page["total"] == 60
    assert store.handed == 5


def test_the_bound_check_catches_a_page_that_copies_the_store() -> None:
    store = NoReverseStore()
    backend = Backend(Settings(), clock=ManualClock(), store=store)
    for i in range(30):
        backend.create(f"k{i}", seed_request(), BASE_URL)
    store.handed = 0
    state.task_page(backend, state.TaskFilter(), 5)
    assert store.handed == 30  # what the check above would flag: every record was read


async def test_filters_by_status_key_and_task_type(backend: Backend, clock: ManualClock) -> None:
    async with client_for(backend) as client:
        done = await create(client, "alice")
        clock.advance(1000)
        waiting = await create(client, "bob", "pending:100")
        pages: dict[str, Any] = {}
        for name, query in {
            "completed": "status=completed",
            "pending": "status=pending",
            "bob": f"key={state.fingerprint('bob')}",
            "other-type": "task_type=image_generation",
            "omni": "model=kling&task_type=omni_video_generation",
        }.items():
            answer = await client.get(f"/_mock/ui/api/tasks?{query}")
            assert answer.status_code == 200, answer.text
            pages[name] = [row["task_id"] for row in answer.json()["tasks"]]
    assert pages["completed"] == [done]
    assert pages["pending"] == [waiting]
    assert pages["bob"] == [waiting]
    assert pages["other-type"] == []
    assert pages["omni"] == [waiting, done]


async def test_a_row_carries_its_plan_and_a_key_fingerprint(
    backend: Backend, clock: ManualClock
) -> None:
    async with client_for(backend) as client:
        task_id = await create(client, "secret-key-123")
        row = (await client.get("/_mock/ui/api/tasks")).json()["tasks"][0]
    record = backend.store.get(task_id)
    assert record is not None
    assert row["key"] == state.fingerprint("secret-key-123")
    assert "secret" not in str(row)
    assert row["status"] == "pending"
    assert row["next_at_ns"] == record.start_at
    assert row["end_at_ns"] == record.end_at
    assert (row["model"], row["task_type"]) == ("kling", "omni_video_generation")
    clock.advance(10_000)
    assert state.next_transition(record, clock.now()) is None


async def test_poll_counts_creates_moves_and_clock_jumps(backend: Backend) -> None:
    async with client_for(backend) as client:

        async def poll() -> dict[str, Any]:
            answer: dict[str, Any] = (await client.get("/_mock/ui/api/poll")).json()
            return answer

        first = await poll()
        task_id = await create(client)
        second = await poll()
        await client.post("/_mock/clock/advance", json={"seconds": 1})
        third = await poll()
        await client.post(f"/_mock/tasks/{task_id}/complete")
        fourth = await poll()
    versions = [first["version"], second["version"], third["version"], fourth["version"]]
    assert versions == sorted(set(versions))
    assert second["tasks"] == 1
    assert second["journal"] == first["journal"] + 1
    assert second["kinds"] == [["kling", "omni_video_generation"]]
    assert third["now_ns"] == second["now_ns"] + 1_000_000_000


async def test_a_counter_that_misses_clock_jumps_is_caught(backend: Backend) -> None:
    counter = state.change_counter(backend)
    counter.clock_moved = lambda: None  # type: ignore[method-assign]
    before = counter.version
    backend.advance(1)
    assert counter.version == before  # what the poll test above would flag


async def test_detail_shows_request_answer_attempts_and_journal(backend: Backend) -> None:
    async with client_for(backend) as client:
        task_id = await create(client)
        await client.get(f"/api/v1/task/{task_id}", headers=KEY)
        detail = (await client.get(f"/_mock/ui/api/tasks/{task_id}")).json()
        missing = await client.get("/_mock/ui/api/tasks/nope")
    assert detail["request"]["input"] == seed_request()["input"]
    assert detail["answer"]["data"]["task_id"] == task_id
    assert detail["answer"]["code"] == 200
    assert [line["method"] for line in detail["journal"]] == ["POST", "GET"]
    assert detail["webhook_endpoint"] == seed_request()["config"]["webhook_config"]["endpoint"]
    assert missing.status_code == 404
    assert missing.json()["data"] is None


async def test_cancel_acts_as_the_owner(backend: Backend) -> None:
    async with client_for(backend) as client:
        task_id = await create(client, "owner-key", "pending:60")
        answer = await client.post(f"/_mock/ui/api/tasks/{task_id}/cancel")
        again = await client.post(f"/_mock/ui/api/tasks/{task_id}/cancel")
        owner_view = await client.get(f"/api/v1/task/{task_id}", headers={"x-api-key": "owner-key"})
    assert answer.status_code == 200
    assert answer.json()["message"] == f"task {task_id} canceled"
    assert again.status_code == 400 or again.status_code == 409
    assert "only pending" in again.json()["message"]
    assert owner_view.json()["data"]["status"] == "failed"


async def test_accounts_and_journal_tail(backend: Backend) -> None:
    async with client_for(backend) as client:
        for key in ("a", "b", "a"):
            await create(client, key)
        accounts = (await client.get("/_mock/ui/api/accounts")).json()
        tail = (await client.get("/_mock/ui/api/journal?limit=2")).json()
    assert accounts["count"] == 2
    assert {a["key"] for a in accounts["accounts"]} == {
        state.fingerprint("a"),
        state.fingerprint("b"),
    }
    assert tail["count"] == 3
    assert len(tail["calls"]) == 2


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/_mock/ui/api/tasks?limit=0", "limit"),
        ("/_mock/ui/api/tasks?limit=x", "limit"),
        ("/_mock/ui/api/tasks?limit=100000", "limit"),
        ("/_mock/ui/api/tasks?status=done", "status"),
        ("/_mock/ui/api/journal?limit=-1", "limit"),
    ],
)
async def test_bad_parameters_are_named_in_the_envelope(
    backend: Backend, path: str, named: str
) -> None:
    async with client_for(backend) as client:
        answer = await client.get(path)
    assert answer.status_code == 400
    body = answer.json()
    assert body["data"] is None
    assert named in body["message"]


async def test_the_page_is_one_self_contained_response(backend: Backend) -> None:
    async with client_for(backend) as client:
        answer = await client.get("/_mock/ui")
    assert answer.status_code == 200
    html = answer.text
    assert "/*SCRIPT*/" not in html
    assert "/*STYLE*/" not in html
    policy = answer.headers["content-security-policy"]
    script = re.search(r"<script>(.*)</script>", html, re.DOTALL)
    assert script is not None
    assert ui_routes._digest(script.group(1)) in policy
    assert ui_routes._digest(script.group(1) + " ") not in policy  # a changed script is refused
    # Offline: nothing is loaded from another origin.
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "default-src 'none'" in policy


async def test_no_control_means_no_dashboard() -> None:
    backend = Backend(Settings(control=False), clock=ManualClock())
    async with client_for(backend) as client:
        page = await client.get("/_mock/ui")
        api = await client.get("/_mock/ui/api/poll")
    assert page.status_code == api.status_code == 404
    assert page.text == "404 page not found"


async def test_only_the_page_takes_the_token_from_its_query() -> None:
    backend = Backend(Settings(control_token="tok en+/"), clock=ManualClock())
    async with client_for(backend) as client:
        page = await client.get("/_mock/ui", params={"token": "tok en+/"})
        wrong = await client.get("/_mock/ui", params={"token": "tok en"})
        api = await client.get("/_mock/ui/api/poll", params={"token": "tok en+/"})
        header = await client.get(
            "/_mock/ui/api/poll", headers={"x-mock-control-token": "tok en+/"}
        )
    assert page.status_code == 200
    assert wrong.status_code == api.status_code == 401
    assert "control token" in api.json()["message"]
    assert header.status_code == 200


def test_a_rare_filter_scans_a_bounded_number_of_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state, "SCAN_LIMIT", 10)
    store = CountingStore()
    backend = Backend(Settings(), clock=ManualClock(), store=store)
    for _ in range(30):
        backend.create("k", seed_request(), BASE_URL)
    store.handed = 0
    page = state.task_page(backend, state.TaskFilter(status="failed"), 5)
    assert store.handed == 10
    assert page["tasks"] == []
    assert page["truncated"] is True
    whole = state.task_page(backend, state.TaskFilter(status="pending"), 5)
    assert len(whole["tasks"]) == 5
    assert whole["truncated"] is False


def test_a_missing_chromium_fails_the_browser_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.ui import conftest

    monkeypatch.setattr(conftest, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.fail.Exception, match="make system-deps"):
        conftest.chromium_path()
    monkeypatch.setattr(conftest, "CHROMIUM", "/bin/sh")  # any existing file passes the check
    assert conftest.chromium_path() == "/bin/sh"


def page_bound(script: str) -> int:
    found = re.search(r"const MAX_PAGE = (\d+);", script)
    assert found is not None
    return int(found.group(1))


def test_the_page_asks_for_no_more_than_the_server_serves() -> None:
    static = resources.files("mock_server.web.ui") / "static"
    script = (static / "app.js").read_text(encoding="utf-8")
    assert page_bound(script) == state.MAX_PAGE
    assert page_bound(script.replace("MAX_PAGE = 500", "MAX_PAGE = 550")) != state.MAX_PAGE
