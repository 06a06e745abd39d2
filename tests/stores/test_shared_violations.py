"""The strict-mode violation log over a shared store: one log for every backend (process)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from mock_server.domain.backend import Backend
from mock_server.settings import Settings
from mock_server.web.control_violations import ViolationLog
from tests.conftest import KEY
from tests.stores.pairs import Clients, two_backends, two_clients

pytestmark = pytest.mark.anyio


@pytest.fixture
def backends(shared_url: str) -> Iterator[tuple[Backend, Backend]]:
    with two_backends(Settings(store=shared_url, speed=1e-9, strict=True)) as pair:
        yield pair


@pytest.fixture
async def clients(backends: tuple[Backend, Backend]) -> AsyncIterator[Clients]:
    async with two_clients(backends) as pair:
        yield pair


async def listed(http: httpx.AsyncClient) -> tuple[int, list[str]]:
    found = (await http.get("/_mock/violations")).json()
    return found["count"], [v["path"] for v in found["violations"]]


async def check_one_log(a: httpx.AsyncClient, b: httpx.AsyncClient) -> None:
    """A request refused on ``a`` is listed on ``b``; a clear on ``b`` clears ``a``'s."""
    refused = await a.post("/api/v1/task", json={"model": "kling"}, headers=KEY)
    assert refused.status_code == 400
    assert await listed(b) == (1, ["/api/v1/task"])
    await b.delete("/_mock/violations")
    assert await listed(a) == (0, [])
    await b.get("/api/v1/task/nope")  # no key: refused on b
    assert await listed(a) == (1, ["/api/v1/task/nope"])
    await a.post("/_mock/reset", json={})
    assert await listed(b) == (0, [])


async def test_the_violation_log_is_one_across_processes(clients: Clients) -> None:
    await check_one_log(*clients)


async def test_per_process_violation_logs_fail_the_check(
    backends: tuple[Backend, Backend], clients: Clients
) -> None:
    """The broken input: each backend keeps its own log (the one-process log)."""
    for backend in backends:
        backend.observers.append(ViolationLog())
    with pytest.raises(AssertionError):
        await check_one_log(*clients)
