"""The client kit: a correct client passes hundreds of drawn answers; broken clients fail."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from contract_tests.client import ClientContractError, ContractRouter, check_request
from contract_tests.profiles import TESTS
from contract_tests.strategies import valid_requests
from mock_server.settings import Settings

BASE = "https://api.piapi.ai"
KEY = {"x-api-key": "client-key"}
GOOD: dict[str, Any] = {
    "model": "kling",
    "task_type": "omni_video_generation",
    "input": {"prompt": "a lighthouse at dusk", "version": "3.0", "duration": 5},
}


def wait_for_video(
    http: httpx.Client,
    body: dict[str, Any],
    sleep: Callable[[float], None],
    max_polls: int = 100,
    headers: Any = None,
) -> dict[str, Any]:
    """A correct client: create, poll every 2 s (429: after Retry-After, 5xx: retry), stop on
    a terminal status, give up after ``max_polls``."""
    headers = KEY if headers is None else headers
    created = http.post("/api/v1/task", json=body, headers=headers)
    created.raise_for_status()
    task_id = created.json()["data"]["task_id"]
    for _ in range(max_polls):
        sleep(2)
        answer = http.get(f"/api/v1/task/{task_id}", headers=headers)
        if answer.status_code == 429:
            sleep(float(answer.headers.get("retry-after", "1")))
            continue
        if answer.status_code >= 500:
            continue
        task = answer.json()["data"]
        if task["status"] in {"completed", "failed", "cancelled"}:
            return {"status": task["status"], "video": task["output"]["video"]}
    return {"status": "gave up", "video": ""}


def test_a_correct_client_passes_hundreds_of_drawn_answers() -> None:
    answered: list[int] = []

    @settings(TESTS, max_examples=60)
    @given(data=st.data(), body=valid_requests())
    def run(data: st.DataObject, body: dict[str, Any]) -> None:
        with (
            ContractRouter("drawn", data=data, transient_errors=True) as router,
            httpx.Client(base_url=BASE) as http,
        ):
            outcome = wait_for_video(http, body, router.sleep)
            assert router.drawn is not None
            answered.append(router.drawn.answered)
            if outcome["status"] == "completed":
                assert http.get(outcome["video"]).status_code == 200

    run()
    assert sum(answered) >= 300, sum(answered)


def test_drawn_answers_catch_a_client_that_assumes_too_much() -> None:
    """A client that iterates ``logs`` breaks on the valid ``logs: null``: Hypothesis finds it."""

    @settings(TESTS, max_examples=100, phases=[Phase.generate])
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        with ContractRouter("drawn", data=data), httpx.Client(base_url=BASE) as http:
            created = http.post("/api/v1/task", json=GOOD, headers=KEY).json()["data"]
            assert len(list(created["logs"])) >= 0

    with pytest.raises(TypeError, match="NoneType"):
        run()


def broken_string_duration(http: httpx.Client) -> None:
    http.post(
        "/api/v1/task", json={**GOOD, "input": {**GOOD["input"], "duration": "5"}}, headers=KEY
    )


def broken_no_key(http: httpx.Client) -> None:
    http.post("/api/v1/task", json=GOOD)


def broken_field_type(http: httpx.Client) -> None:
    body = {**GOOD, "input": {**GOOD["input"], "images": "https://example.test/a.png"}}
    http.post("/api/v1/task", json=body, headers=KEY)


def broken_task_type(http: httpx.Client) -> None:
    http.post("/api/v1/task", json={**GOOD, "task_type": "lipsync"}, headers=KEY)


def broken_route(http: httpx.Client) -> None:
    http.get("/api/v1/tasks/abc", headers=KEY)


BROKEN: list[tuple[Callable[[httpx.Client], None], str, str]] = [
    (broken_string_duration, "/input/duration", "type"),
    (broken_no_key, "/headers/x-api-key", "required"),
    (broken_field_type, "/input/images", "type"),
    (broken_task_type, "/task_type", "supported"),
    (broken_route, "", "route"),
]


@pytest.mark.parametrize("answer", ["fake", "drawn"])
@pytest.mark.parametrize(("client", "pointer", "rule"), BROKEN, ids=[b[0].__name__ for b in BROKEN])
def test_a_broken_client_fails_with_pointer_and_rule(
    client: Callable[[httpx.Client], None], pointer: str, rule: str, answer: str
) -> None:
    @settings(TESTS, max_examples=1)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        kind: Any = answer
        with ContractRouter(kind, data=data), httpx.Client(base_url=BASE) as http:
            client(http)  # the client ignores the error answer: the router still fails

    with pytest.raises(ClientContractError) as caught:
        run()
    assert [(v.pointer, v.rule) for v in caught.value.violations] == [(pointer, rule)]
    assert f"[{rule}]" in str(caught.value)


def test_the_fake_answers_and_its_clock_moves() -> None:
    with (
        ContractRouter(settings=Settings(speed=1.0)) as router,
        httpx.Client(base_url=BASE) as http,
    ):
        created = http.post("/api/v1/task", json=GOOD, headers=KEY).json()["data"]
        router.advance(600)
        task = http.get(f"/api/v1/task/{created['task_id']}", headers=KEY).json()["data"]
        assert task["status"] == "completed"
        assert http.get(task["output"]["video"]).content[4:8] == b"ftyp"
        assert len(router.calls) == 3
    assert router.violations == []


def test_async_clients_are_checked_too() -> None:
    async def client() -> int:
        async with httpx.AsyncClient(base_url=BASE) as http:
            answer = await http.post("/api/v1/task", json={**GOOD, "model": "suno"}, headers=KEY)
            return answer.status_code

    router = ContractRouter(strict=False)
    with router:
        assert asyncio.run(client()) == 400
    assert [(v.pointer, v.rule) for v in router.violations] == [("/task_type", "supported")]
    with pytest.raises(ClientContractError):
        router.assert_no_violations()


def test_check_request_accepts_the_documented_calls() -> None:
    calls = [
        httpx.Request("POST", BASE + "/api/v1/task", json=GOOD, headers=KEY),
        httpx.Request("GET", BASE + "/api/v1/task/abc", headers=KEY),
        httpx.Request("DELETE", BASE + "/api/v1/task/abc", headers=KEY),
        httpx.Request("POST", BASE + "/api/v1/task/abc/cancel", headers=KEY),
        httpx.Request("GET", BASE + "/account/info", headers=KEY),
    ]
    assert [check_request(r) for r in calls] == [[]] * 5
    bad = httpx.Request("POST", BASE + "/api/v1/task", content=b"{", headers=KEY)
    assert [v.rule for v in check_request(bad)] == ["json"]


def test_drawn_mode_needs_data() -> None:
    with pytest.raises(ValueError, match="data="):
        ContractRouter("drawn")
