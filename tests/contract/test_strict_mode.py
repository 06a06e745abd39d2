"""Strict mode records what clients send that the contract forbids, at ``/_mock/violations``."""

from __future__ import annotations

from typing import Any

from contract_tests.endpoint import NO_KEY
from tests.contract.conftest import Connect

BAD = {
    "model": "kling",
    "task_type": "omni_video_generation",
    "input": {"version": "3.0", "prompt": "p", "duration": "5"},
}


def violations(connect_endpoint: Any) -> dict[str, Any]:
    answer = connect_endpoint.client.get("/_mock/violations")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def test_strict_mode_records_pointer_and_rule(connect: Connect) -> None:
    endpoint = connect(strict=True)
    assert endpoint.create(BAD).status == 400
    assert endpoint.create(BAD, key=NO_KEY).status == 401
    assert endpoint.get("no-such-task").status == 404
    found = violations(endpoint)
    assert found["strict"] is True
    assert found["count"] == 3
    first, second, third = found["violations"]
    assert first["violations"] == [
        {"pointer": "/input/duration", "rule": "type", "message": '"5" is not of type "integer"'}
    ]
    assert (first["method"], first["path"], first["status"]) == ("POST", "/api/v1/task", 400)
    assert second["violations"][0]["pointer"] == "/headers/x-api-key"
    assert third["violations"][0]["rule"] == "TaskNotFound"


def test_reset_and_delete_clear_the_record(connect: Connect) -> None:
    endpoint = connect(strict=True)
    endpoint.create(BAD)
    endpoint.client.post("/_mock/reset", json={})
    assert violations(endpoint)["count"] == 0
    endpoint.create(BAD)
    assert endpoint.client.delete("/_mock/violations").json()["count"] == 0
    assert violations(endpoint)["violations"] == []


def test_without_strict_mode_nothing_is_recorded(connect: Connect) -> None:
    endpoint = connect()
    endpoint.create(BAD)
    assert violations(endpoint) == {"strict": False, "count": 0, "violations": []}


def test_valid_requests_are_not_recorded(connect: Connect) -> None:
    endpoint = connect(strict=True)
    good = {**BAD, "input": {"version": "3.0", "prompt": "p", "duration": 5}}
    assert endpoint.create(good).status == 200
    assert violations(endpoint)["count"] == 0


def test_strict_mode_records_how_a_client_polls(connect: Connect) -> None:
    endpoint = connect(strict=True)
    good = {**BAD, "input": {"version": "3.0", "prompt": "p", "duration": 5}}
    task_id = endpoint.create(good).json["data"]["task_id"]
    endpoint.get(task_id)
    endpoint.get(task_id)  # at once: faster than the policy's interval
    endpoint.client.post("/_mock/clock/advance", json={"seconds": 600})
    for _ in range(3):  # completed, then twice more (one is allowed)
        endpoint.get(task_id)
        endpoint.client.post("/_mock/clock/advance", json={"seconds": 5})
    found = violations(endpoint)["violations"]
    rules = [v["violations"][0]["rule"] for v in found]
    assert rules == ["poll interval", "poll after end"]
    assert task_id in found[0]["message"]
    assert "was completed" in found[1]["message"]


def test_without_strict_mode_polling_is_not_judged(connect: Connect) -> None:
    endpoint = connect()
    good = {**BAD, "input": {"version": "3.0", "prompt": "p", "duration": 5}}
    task_id = endpoint.create(good).json["data"]["task_id"]
    endpoint.get(task_id)
    endpoint.get(task_id)
    assert violations(endpoint)["count"] == 0
