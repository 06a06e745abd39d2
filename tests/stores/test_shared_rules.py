"""Outcome and fault rules over a shared store, in-process: two backends (as two processes
would be), each behind its own app. A rule posted to one applies on the other as soon as the
POST answers, ``times``/``every`` count the calls of both, and the fault log is one log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from mock_server.domain import scenarios
from mock_server.domain.backend import Backend
from mock_server.domain.shared_rules import StoreFiring
from mock_server.settings import Settings
from tests.conftest import KEY, seed_request
from tests.stores.pairs import Clients, two_backends, two_clients

pytestmark = pytest.mark.anyio

FROZEN = 1e-9


@pytest.fixture
def backends(shared_url: str) -> Iterator[tuple[Backend, Backend]]:
    with two_backends(Settings(store=shared_url, speed=FROZEN)) as pair:
        yield pair


@pytest.fixture
async def clients(backends: tuple[Backend, Backend]) -> AsyncIterator[Clients]:
    async with two_clients(backends) as pair:
        yield pair


async def status_after(http: httpx.AsyncClient, task_id: str, seconds: float) -> str:
    await http.post("/_mock/clock/advance", json={"seconds": seconds})
    answer = await http.get(f"/api/v1/task/{task_id}", headers=KEY)
    found: str = answer.json()["data"]["status"]
    return found


async def create(http: httpx.AsyncClient) -> httpx.Response:
    return await http.post("/api/v1/task", json=seed_request(), headers=KEY)


async def test_a_rule_posted_on_one_changes_a_task_created_on_the_other(clients: Clients) -> None:
    a, b = clients
    await b.get("/_mock/rules")  # b holds a fresh copy of the (empty) rules
    posted = await a.post("/_mock/rules", json={"scenario": "fail:content_policy", "times": 1})
    assert posted.status_code == 201
    first = (await create(b)).json()["data"]["task_id"]
    second = (await create(a)).json()["data"]["task_id"]
    assert await status_after(a, first, 10) == "failed"
    assert await status_after(b, second, 1000) == "completed"  # times: 1, across both
    rules = (await b.get("/_mock/rules")).json()["rules"]
    assert [(r["seen"], r["fired"]) for r in rules] == [(2, 1)]
    removed = await b.delete(f"/_mock/rules/{rules[0]['id']}")
    assert removed.status_code == 200
    assert (await a.get("/_mock/rules")).json()["rules"] == []


async def check_one_fault_across_both(a: httpx.AsyncClient, b: httpx.AsyncClient) -> None:
    """A ``times: 1`` fault posted on ``a`` fires once among calls on both; one log."""
    for http in (a, b):
        await http.get("/_mock/faults")
    posted = await a.post("/_mock/faults", json={"fault": "503", "on": "create", "times": 1})
    assert posted.status_code == 201
    codes = [(await create(http)).status_code for http in (b, a, b, a)]
    assert sorted(codes) == [200, 200, 200, 503], codes
    assert codes[0] == 503  # the first call after the POST answered, on the other process
    for http in (a, b):
        log = (await http.get("/_mock/faults/log")).json()
        assert log["count"] == 1
        faults = (await http.get("/_mock/faults")).json()["faults"]
        assert [(f["seen"], f["fired"]) for f in faults] == [(4, 1)]


async def test_a_times_one_fault_fires_once_across_both(clients: Clients) -> None:
    await check_one_fault_across_both(*clients)


async def test_a_per_process_counter_fails_the_fault_check(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broken input: each process counts its own calls (the old ``Firing.fire``)."""
    monkeypatch.setattr(StoreFiring, "fire", scenarios.Firing.fire)
    monkeypatch.setattr(StoreFiring, "as_dict", scenarios.Firing.as_dict)
    with pytest.raises(AssertionError):
        await check_one_fault_across_both(*clients)


async def test_every_counts_the_calls_of_both(clients: Clients) -> None:
    a, b = clients
    await a.post("/_mock/faults", json={"fault": "429", "on": "create", "every": 2})
    codes = [(await create(http)).status_code for http in (a, b, a, b)]
    assert codes == [200, 429, 200, 429]


async def test_clear_and_reset_on_one_drop_the_rules_of_both(clients: Clients) -> None:
    a, b = clients
    await a.post("/_mock/faults", json={"fault": "503", "on": "create"})
    await a.post("/_mock/rules", json={"scenario": "stuck"})
    assert (await create(b)).status_code == 503
    await b.delete("/_mock/faults")
    assert (await create(a)).status_code == 200
    await b.post("/_mock/reset", json={})
    task_id = (await create(a)).json()["data"]["task_id"]
    assert await status_after(a, task_id, 1000) == "completed"  # the stuck rule is gone
    rule = (await b.post("/_mock/rules", json={"scenario": "stuck"})).json()
    assert rule["id"] != "r1"  # ids never repeat on a shared store, not even after a reset
