"""The platform routes: account info with every field clients read, active tasks, history."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_server.domain.clock import ManualClock
from mock_server.settings import Settings
from tests.conftest import KEY, seed_request

pytestmark = pytest.mark.anyio
OTHER = {"x-api-key": "someone-else"}


async def create(client: httpx.AsyncClient, headers: dict[str, str] = KEY) -> str:
    body = seed_request()
    body["config"]["webhook_config"]["endpoint"] = ""
    answer = await client.post("/api/v1/task", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    task_id: str = answer.json()["data"]["task_id"]
    return task_id


async def test_account_info_has_every_field_real_clients_read(client: httpx.AsyncClient) -> None:
    data = (await client.get("/account/info", headers=KEY)).json()["data"]
    for name in ("id", "name", "account_name", "plan", "type", "is_enable", "equivalent_in_usd"):
        assert name in data, name
    assert set(data["wallet"]) >= {"point_remain", "point_frozen", "point_used", "mj_remain"}
    assert set(data["credit_pack_info"]) >= {
        "total_credits",
        "used_credits",
        "frozen_credits",
        "available_credits",
        "expired_credits",
        "inactive_credits",
        "credit_packs_count",
        "credit_packs",
    }
    assert "max_concurrent_task_count" in data
    assert "test-key" not in str(data)


async def test_an_unlimited_account_shows_a_large_balance(client: httpx.AsyncClient) -> None:
    data = (await client.get("/account/info", headers=KEY)).json()["data"]
    assert data["unlimited"] is True
    assert data["wallet"]["point_remain"] >= 10**12
    assert data["equivalent_in_usd"] >= 1_000_000


class TestLimited:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(credits_usd=10)

    async def test_a_limited_account_counts_down(self, client: httpx.AsyncClient) -> None:
        await create(client)
        data = (await client.get("/account/info", headers=KEY)).json()["data"]
        assert data["unlimited"] is False
        assert data["wallet"]["point_frozen"] == 4_500_000
        assert data["wallet"]["point_remain"] == 100_000_000 - 4_500_000
        assert data["credit_pack_info"]["available_credits"] == data["wallet"]["point_remain"]


async def test_active_tasks_counts_per_provider(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    first = await create(client)
    await create(client)
    await create(client, OTHER)
    data = (await client.get("/account/active_tasks", headers=KEY)).json()["data"]
    assert data["kling"]["pending_count"] == 2
    assert data["kling"]["processing_count"] == 0
    assert {t["task_id"] for t in data["kling"]["active_tasks"]} >= {first}
    clock.advance(2)
    data = (await client.get("/account/active_tasks", headers=KEY)).json()["data"]
    assert data["kling"]["processing_count"] == 2
    clock.advance(10_000)
    assert (await client.get("/account/active_tasks", headers=KEY)).json()["data"] == {}


async def test_histories_are_paged_newest_first(client: httpx.AsyncClient) -> None:
    ids = [await create(client) for _ in range(5)]
    await create(client, OTHER)
    page: dict[str, Any] = (
        await client.get("/api/open/tasks/histories?page=2&page_size=2", headers=KEY)
    ).json()
    assert page["total"] == 5
    assert (page["page"], page["size"]) == (2, 2)
    assert [row["task_id"] for row in page["data"]] == [ids[2], ids[1]]
    assert page["data"][0]["task_model"] == "kling"
    assert page["data"][0]["action"] == "omni_video_generation"
    other_model = await client.get("/api/open/tasks/histories?model=veo3", headers=KEY)
    assert other_model.json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("page_size=101", "page_size must be from 1 to 100"),
        ("page_size=0", "page_size must be from 1 to 100"),
        ("page=①", "page must be ASCII digits"),
        ("page=" + "9" * 13, "page must be ASCII digits"),
        ("start_time=-1", "start_time must be ASCII digits"),
    ],
)
async def test_histories_refuse_bad_parameters_by_name(
    client: httpx.AsyncClient, query: str, words: str
) -> None:
    answer = await client.get(f"/api/open/tasks/histories?{query}", headers=KEY)
    assert answer.status_code == 400
    assert words in answer.json()["message"]


async def test_platform_routes_need_a_key(client: httpx.AsyncClient) -> None:
    for path in ("/account/info", "/account/active_tasks", "/api/open/tasks/histories"):
        assert (await client.get(path)).status_code == 401
