"""The control plane: the scenario catalogue, outcome rules, forced moves, reset."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_server.domain.backend import Backend
from mock_server.domain.clock import ManualClock
from mock_server.domain.errors import PiapiError
from tests.scenarios.helpers import KEY, body, impossible, make, open_client

pytestmark = pytest.mark.anyio


async def new_task(http: httpx.AsyncClient, scenario: str | None = None) -> str:
    headers = KEY if scenario is None else {**KEY, "X-Mock-Scenario": scenario}
    answer = await http.post("/api/v1/task", json=body(), headers=headers)
    task_id: str = answer.json()["data"]["task_id"]
    return task_id


async def task(http: httpx.AsyncClient, task_id: str) -> Any:
    data = (await http.get(f"/api/v1/task/{task_id}", headers=KEY)).json()["data"]
    assert impossible(data) == []
    return data


async def test_catalogue_lists_every_scenario_fault_and_rule(backend: Backend) -> None:
    async with open_client(backend) as http:
        await http.post("/_mock/rules", json={"scenario": "stuck", "match": {"version": "o1"}})
        await http.post("/_mock/faults", json={"fault": "429", "on": "create", "every": 2})
        listed = (await http.get("/_mock/scenarios")).json()
    grammars = [s["grammar"] for s in listed["scenarios"]]
    assert {"fail[:REASON]", "fail-after:S[:REASON]", "stuck", "slow[:F]"} <= set(grammars)
    assert {"drop", "truncate[:N]", "latency:MIN-MAX"} <= {f["grammar"] for f in listed["faults"]}
    assert listed["failures"]["content_policy"]["code"] == 1301
    assert listed["rules"][0]["match"] == {"version": "o1"}
    assert listed["fault_rules"][0]["every"] == 2


async def test_rules_list_remove_clear_and_reset(backend: Backend) -> None:
    async with open_client(backend) as http:
        for scenario in ("fail", "stuck", "slow"):
            added = await http.post("/_mock/rules", json={"scenario": scenario})
            assert added.status_code == 201
        assert (await http.delete("/_mock/rules/r2")).json() == {"removed": "r2"}
        assert (await http.delete("/_mock/rules/r2")).status_code == 404
        listed = (await http.get("/_mock/rules")).json()["rules"]
        assert [r["id"] for r in listed] == ["r1", "r3"]
        await http.delete("/_mock/rules")
        assert (await http.get("/_mock/rules")).json()["rules"] == []
        await http.post("/_mock/rules", json={"scenario": "fail"})
        await http.post("/_mock/reset", json={"seed": 1})
        assert (await http.get("/_mock/scenarios")).json()["rules"] == []


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({}, "/scenario: a string"),
        ({"scenario": "boom"}, "/scenario: unknown step"),
        ({"scenario": "fail", "match": []}, "/match: an object"),
        ({"scenario": "fail", "match": {"colour": "red"}}, "/match/colour: unknown"),
        ({"scenario": "fail", "match": {"duration": "5"}}, "/match/duration: a int"),
        ({"scenario": "fail", "match": {"enable_audio": 1}}, "/match/enable_audio: a bool"),
        ({"scenario": "fail", "times": -1}, "/times: a positive integer"),
    ],
)
async def test_bad_rules_are_400s(backend: Backend, rule: dict[str, Any], message: str) -> None:
    async with open_client(backend) as http:
        answer = await http.post("/_mock/rules", json=rule)
    assert answer.status_code == 400
    assert message in answer.json()["message"]


async def force(http: httpx.AsyncClient, task_id: str, action: str, **extra: Any) -> Any:
    return await http.post(f"/_mock/tasks/{task_id}/{action}", json=extra)


async def test_force_complete_fail_and_advance(backend: Backend, clock: ManualClock) -> None:
    async with open_client(backend) as http:
        stuck, pending, failing, plain = [
            await new_task(http, s) for s in ("stuck", "pending:600", "pending:600", None)
        ]
        clock.advance(5)
        answer = await force(http, stuck, "complete")
        assert answer.status_code == 200
        assert answer.json()["task"]["status"] == "completed"
        assert (await task(http, stuck))["output"]["video"]
        assert (await force(http, pending, "advance")).json()["task"]["status"] == "processing"
        failed = (await force(http, failing, "fail", reason="content_policy")).json()["task"]
        assert failed["status"] == "failed"
        assert failed["error"]["code"] == 1301
        custom = await force(http, plain, "fail", code=7, message="nope", raw_message="raw")
        assert custom.json()["task"]["error"] == {
            "code": 7,
            "raw_message": "raw",
            "message": "nope",
            "detail": None,
        }
        assert (await force(http, pending, "advance")).json()["task"]["status"] == "completed"
        again = await force(http, pending, "advance")
        assert again.status_code == 409
        assert "already completed" in again.json()["message"]
        assert (await force(http, "nope", "complete")).status_code == 404
        assert (await force(http, plain, "explode")).status_code == 404
        bad = await force(http, await new_task(http), "fail", code=0)
        assert bad.status_code == 400


async def test_advance_ends_a_processing_task_with_its_planned_outcome() -> None:
    backend, clock = make()
    async with open_client(backend) as http:
        doomed = await new_task(http, "fail-after:500:upstream_timeout")
        clock.advance(10)
        moved = (await force(http, doomed, "advance")).json()["task"]
    assert moved["status"] == "failed"
    assert moved["error"]["code"] == 5002


async def test_forced_moves_settle_the_wallet() -> None:
    backend, _ = make(credits_usd=1)
    async with open_client(backend) as http:
        done, failed = await new_task(http, "stuck"), await new_task(http, "stuck")
        await force(http, done, "complete")
        await force(http, failed, "fail")
        info = (await http.get("/account/info", headers=KEY)).json()["data"]["wallet"]
    points = {k: v for k, v in info.items() if k.startswith("point_")}
    assert points == {"point_remain": 5_500_000, "point_frozen": 0, "point_used": 4_500_000}


async def test_forcing_a_queued_task_frees_nothing_it_did_not_hold() -> None:
    backend, clock = make(max_concurrent=1)
    async with open_client(backend) as http:
        first, second, third = [await new_task(http) for _ in range(3)]
        clock.advance(2)
        await force(http, second, "complete")
        assert [(await task(http, t))["status"] for t in (first, second, third)] == [
            "processing",
            "completed",
            "pending",
        ]


def test_forcing_fail_without_an_error_uses_the_default_reason() -> None:
    backend, _ = make()
    view = backend.create("k", body(), "x", scenario="stuck")
    backend.force(view.record, "fail")
    error = backend.get("k", view.task_id).error
    assert error is not None
    assert error.code == 5000
    with pytest.raises(PiapiError, match="unknown action"):
        backend.force(backend.create("k", body(), "x").record, "explode")
