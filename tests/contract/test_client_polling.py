"""Client checks beyond request shape: how a client polls, waits and stops.

Each rule of :mod:`mock_server.polling_rules` is shown failing on a deliberately broken
client, and a correct client (sleeping through ``router.sleep``) passes.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.client import ClientContractError, ContractRouter
from contract_tests.drawn_server import DrawnServer
from contract_tests.profiles import CI, TESTS
from mock_server.polling_rules import PollPolicy, PollWatch, RunawayClient

BASE = "https://api.piapi.ai"
KEY = {"x-api-key": "client-key"}
GOOD: dict[str, Any] = {
    "model": "kling",
    "task_type": "omni_video_generation",
    "input": {"prompt": "a lighthouse at dusk", "version": "3.0", "duration": 5},
}


def created(http: httpx.Client, headers: dict[str, str] | None = None) -> str:
    answer = http.post("/api/v1/task", json=GOOD, headers={**KEY, **(headers or {})})
    task_id: str = answer.json()["data"]["task_id"]
    return task_id


def rules(caught: pytest.ExceptionInfo[ClientContractError]) -> list[str]:
    return [v.rule for v in caught.value.violations]


def polls_a_finished_task(router: ContractRouter, http: httpx.Client) -> str:
    task_id = created(http)
    router.advance(600)
    for _ in range(4):  # the first poll says "completed": three are too many
        http.get(f"/api/v1/task/{task_id}")
        router.sleep(5)
    return task_id


def polls_too_fast(router: ContractRouter, http: httpx.Client) -> str:
    task_id = created(http)
    http.get(f"/api/v1/task/{task_id}")
    http.get(f"/api/v1/task/{task_id}")  # no pause at all
    return task_id


def polls_every_five_seconds(router: ContractRouter, http: httpx.Client) -> str:
    task_id = created(http)
    http.get(f"/api/v1/task/{task_id}")
    router.sleep(5)
    http.get(f"/api/v1/task/{task_id}")
    return task_id


def retries_429_too_early(router: ContractRouter, http: httpx.Client) -> str:
    task_id = created(http)
    router.sleep(2)
    first = http.get(f"/api/v1/task/{task_id}", headers={"x-mock-fault": "429"})
    assert first.status_code == 429
    assert first.headers["retry-after"] == "1"
    router.sleep(1.5)  # honoured, and then at once again (no 429 this time)
    http.get(f"/api/v1/task/{task_id}", headers={"x-mock-fault": "429"})
    http.get(f"/api/v1/task/{task_id}")
    return task_id


def never_stops(router: ContractRouter, http: httpx.Client) -> str:
    task_id = created(http, {"x-mock-scenario": "stuck"})
    while True:  # a client without a bound, that also swallows errors
        router.sleep(3)
        try:
            http.get(f"/api/v1/task/{task_id}")
        except Exception:
            continue


Client = Any


def run(client: Client, policy: PollPolicy | None = None, strict: bool = True) -> ContractRouter:
    router = ContractRouter(poll_policy=policy, strict=strict)
    with router, httpx.Client(base_url=BASE, headers=KEY) as http:
        router.task_id = client(router, http)  # type: ignore[attr-defined]
    return router


def test_a_client_that_keeps_polling_a_finished_task_fails() -> None:
    with pytest.raises(ClientContractError) as caught:
        run(polls_a_finished_task)
    assert rules(caught) == ["poll after end"]
    message = str(caught.value)
    assert "was completed and the client polled it" in message
    assert "polls at" in message


def test_a_client_polling_too_fast_fails() -> None:
    with pytest.raises(ClientContractError) as caught:
        run(polls_too_fast)
    assert rules(caught) == ["poll interval"]
    assert "s after the previous poll, at least 1 s due" in str(caught.value)


def test_the_minimum_interval_is_configurable() -> None:
    assert run(polls_every_five_seconds).violations == []
    with pytest.raises(ClientContractError) as caught:
        run(polls_every_five_seconds, PollPolicy(min_interval=10))
    assert "at least 10 s due" in str(caught.value)


def test_a_client_retrying_a_429_before_retry_after_fails() -> None:
    with pytest.raises(ClientContractError) as caught:
        run(retries_429_too_early)
    assert rules(caught) == ["Retry-After", "poll interval"]
    assert "before the Retry-After: 1" in str(caught.value)


def test_a_client_that_never_stops_is_stopped_with_its_polls() -> None:
    with pytest.raises(RunawayClient) as caught:
        run(never_stops, PollPolicy(max_polls=20), strict=False)
    assert "polled 21 times, still not finished" in str(caught.value)
    assert "never stops" in str(caught.value)


def test_a_correct_client_passes_every_polling_rule() -> None:
    with ContractRouter() as router, httpx.Client(base_url=BASE, headers=KEY) as http:
        task_id = created(http)
        status = "pending"
        while status not in {"completed", "failed"}:
            router.advance(10)
            status = http.get(f"/api/v1/task/{task_id}").json()["data"]["status"]
    assert router.violations == []


def test_the_watch_alone() -> None:
    now = [0.0]
    watch = PollWatch(PollPolicy(min_interval=1, after_end=0), clock=lambda: now[0])
    watch.request("GET", "/api/v1/task/t1")
    watch.answered("GET", "/api/v1/task/t1", 200, "failed", "")
    now[0] = 5
    watch.request("GET", "/api/v1/task/t1")
    assert [(v.task_id, v.rule) for v in watch.found] == [("t1", "poll after end")]


@settings(TESTS, max_examples=60)
@given(data=st.data())
def test_drawn_transient_errors_are_bounded_and_429s_say_when(data: st.DataObject) -> None:
    server = DrawnServer(data, transient_errors=True)
    task_id = server.create(GOOD)[1]["data"]["task_id"]
    in_a_row = 0
    for _ in range(80):
        status, _body, headers = server.get(task_id)
        in_a_row = in_a_row + 1 if status != 200 else 0
        assert in_a_row <= server.max_transient
        if status == 429:
            assert 1 <= int(headers["retry-after"]) <= 3


def test_the_ci_profile_has_no_explain_phase() -> None:
    from hypothesis import Phase

    assert Phase.explain not in TESTS.phases
    assert Phase.shrink not in CI.phases, "CI fails a broken drawn test in seconds"
    assert Phase.explain not in CI.phases
