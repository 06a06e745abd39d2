"""``/_mock/tasks`` is paged in O(limit); retention prunes; the store has a cap (issue #11:
defects 3 and 4). Nothing here measures time: the tests count the work done."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_server.domain.backend import Backend, manual_backend
from mock_server.domain.clock import ManualClock
from mock_server.settings import Settings
from mock_server.stores.memory import MemoryStore
from mock_server.web import control
from mock_server.web.app import create_asgi
from tests.conftest import BASE_URL, seed_request

BODY = seed_request()
BODY["config"]["webhook_config"]["endpoint"] = ""


def fill(backend: Backend, count: int, owner: str = "k") -> list[str]:
    return [backend.create(owner, BODY, BASE_URL).task_id for _ in range(count)]


def client_for(backend: Backend) -> httpx.Client:
    import asyncio

    app = create_asgi(backend=backend)

    class Sync(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            async def run() -> httpx.Response:
                transport = httpx.ASGITransport(app=app)
                response = await transport.handle_async_request(request)
                return httpx.Response(
                    response.status_code, headers=response.headers, content=await response.aread()
                )

            return asyncio.run(run())

    return httpx.Client(transport=Sync(), base_url=BASE_URL)


class CountingStore(MemoryStore):
    """Counts records handed out, and fails if anyone walks the whole store."""

    def __init__(self) -> None:
        super().__init__()
        self.handed = 0

    def scan(self, after: str | None = None, limit: int = 1000, *, hooks: bool = False) -> Any:
        records, cursor = super().scan(after, limit, hooks=hooks)
        self.handed += len(records)
        return records, cursor

    def __iter__(self) -> Any:
        raise AssertionError("the whole store was walked")


def test_a_page_costs_its_limit_not_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    store = CountingStore()
    backend = Backend(Settings(max_tasks=0), clock=ManualClock(), store=store)
    ids = fill(backend, 3000)
    built: list[Any] = []
    original = control.dump

    def counting(request: Any, record: Any) -> Any:
        built.append(record)
        return original(request, record)

    monkeypatch.setattr(control, "dump", counting)
    with client_for(backend) as http:
        page = http.get("/_mock/tasks", params={"limit": 10}).json()
    assert len(built) == 10
    assert store.handed <= 11  # the page, and one look past it for ``next``
    assert [t["task"]["task_id"] for t in page["tasks"]] == ids[:10]
    assert page["count"] == 10
    assert page["total"] == 3000
    assert page["next"] is not None


def test_the_check_catches_a_listing_that_walks_everything() -> None:
    store = CountingStore()
    backend = Backend(Settings(max_tasks=0), clock=ManualClock(), store=store)
    fill(backend, 5)
    with pytest.raises(AssertionError, match="whole store"):
        list(backend.records())  # what the old listing did


def test_pages_follow_the_cursor_through_every_task() -> None:
    backend, _ = manual_backend(Settings(max_tasks=0))
    ids = fill(backend, 250)
    for task_id in ids[::7]:
        backend.store.remove(task_id)
    alive = [i for i in ids if backend.store.get(i) is not None]
    seen: list[str] = []
    cursor = None
    with client_for(backend) as http:
        while True:
            params: dict[str, Any] = {"limit": 40}
            if cursor is not None:
                params["after"] = cursor
            page = http.get("/_mock/tasks", params=params).json()
            seen += [t["task"]["task_id"] for t in page["tasks"]]
            cursor = page["next"]
            if cursor is None:
                break
    assert seen == alive


def test_retention_really_removes_tasks() -> None:
    backend, clock = manual_backend(Settings(retention=60, max_tasks=0))
    fill(backend, 100)
    clock.advance(120)
    fill(backend, 1)  # each create prunes what expired
    assert len(backend.store) < 100
    for _ in range(3):
        fill(backend, 1)
    assert len(backend.store) == 4
    assert backend.expired == 100


def test_the_store_cap_evicts_the_oldest_finished_tasks_first() -> None:
    backend, clock = manual_backend(Settings(max_tasks=50))
    stuck = backend.create("k", BODY, BASE_URL, scenario="stuck").task_id
    fill(backend, 30)
    clock.advance(3600)  # all but the stuck one have finished
    fill(backend, 40)
    assert len(backend.store) == 50
    assert backend.store.get(stuck) is not None  # unfinished: kept while finished ones exist
    assert backend.evicted == 21
    with client_for(backend) as http:
        health = http.get("/_mock/health").json()
    assert health == {"status": "ok", "tasks": 50, "max_tasks": 50, "evicted": 21, "expired": 0}


def test_the_default_cap_is_documented() -> None:
    assert Settings().max_tasks == 100_000


def test_evicting_an_unfinished_task_releases_its_credits() -> None:
    backend, _ = manual_backend(Settings(max_tasks=5, credits_usd=100))
    fill(backend, 5)
    before = backend.account("k")["wallet"]["point_frozen"]
    fill(backend, 1)  # nothing has finished: the oldest goes, and its frozen points with it
    assert backend.account("k")["wallet"]["point_frozen"] == before
