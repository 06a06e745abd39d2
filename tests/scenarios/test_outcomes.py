"""Task outcomes per request (header), by rule and by seeded rate; repeatable under a seed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_server.domain import scenarios
from mock_server.domain.backend import Backend
from mock_server.domain.clock import ManualClock
from mock_server.domain.models import Status
from mock_server.domain.render import task_dict
from tests.scenarios.helpers import KEY, body, create, impossible, make, open_client

pytestmark = pytest.mark.anyio


async def post(http: httpx.AsyncClient, scenario: str | None = None, **changes: Any) -> Any:
    headers = dict(KEY) if scenario is None else {**KEY, "X-Mock-Scenario": scenario}
    return await http.post("/api/v1/task", json=body(**changes), headers=headers)


async def status_after(http: httpx.AsyncClient, clock: ManualClock, task_id: str, s: float) -> Any:
    clock.advance(s)
    answer = await http.get(f"/api/v1/task/{task_id}", headers=KEY)
    assert answer.status_code == 200
    task = answer.json()["data"]
    assert impossible(task) == []
    return task


async def test_header_fail_after_fails_at_the_given_second() -> None:
    backend, clock = make()
    async with open_client(backend) as http:
        created = await post(http, "fail-after:30:content_policy")
        task_id = created.json()["data"]["task_id"]
        assert (await status_after(http, clock, task_id, 30))["status"] == "processing"
        task = await status_after(http, clock, task_id, 1.5)
    assert task["status"] == "failed"
    assert task["error"]["code"] == 1301
    assert task["meta"]["usage"]["consume"] == 0


async def test_header_stuck_never_ends_and_slow_takes_longer() -> None:
    backend, clock = make()
    async with open_client(backend) as http:
        stuck = (await post(http, "stuck")).json()["data"]["task_id"]
        slow = (await post(http, "slow")).json()["data"]["task_id"]
        plain = (await post(http)).json()["data"]["task_id"]
        assert (await status_after(http, clock, plain, 100))["status"] == "completed"
        assert (await status_after(http, clock, slow, 0))["status"] == "processing"
        assert (await status_after(http, clock, slow, 200))["status"] == "completed"
        assert (await status_after(http, clock, stuck, 10**6))["status"] == "processing"


async def test_bad_header_is_a_400_envelope_and_creates_nothing() -> None:
    backend, _ = make()
    async with open_client(backend) as http:
        answer = await post(http, "fail:nope")
    assert answer.status_code == 400
    assert answer.json()["code"] == 400
    assert "X-Mock-Scenario" in answer.json()["message"]
    assert len(backend.store) == 0


async def test_headers_can_be_switched_off() -> None:
    backend, clock = make(scenario_headers=False)
    async with open_client(backend) as http:
        task_id = (await post(http, "fail")).json()["data"]["task_id"]
        assert (await status_after(http, clock, task_id, 200))["status"] == "completed"


async def test_rules_match_input_and_key_and_fire_as_told() -> None:
    backend, clock = make()
    async with open_client(backend) as http:
        added = await http.post(
            "/_mock/rules",
            json={"scenario": "fail:content_policy", "match": {"prompt_contains": "SWIM"}},
        )
        assert added.status_code == 201
        await http.post(
            "/_mock/rules",
            json={"scenario": "stuck", "match": {"resolution": "1080p"}, "times": 1},
        )
        swim = (await post(http)).json()["data"]["task_id"]
        other = (await post(http, prompt="a cat", resolution="1080p")).json()["data"]["task_id"]
        again = (await post(http, prompt="a cat", resolution="1080p")).json()["data"]["task_id"]
        clock.advance(300)
        got = {t: (await status_after(http, clock, t, 0))["status"] for t in (swim, other, again)}
    assert got == {swim: "failed", other: "processing", again: "completed"}


async def test_a_header_wins_over_a_rule() -> None:
    backend, clock = make()
    async with open_client(backend) as http:
        await http.post("/_mock/rules", json={"scenario": "fail"})
        task_id = (await post(http, "complete")).json()["data"]["task_id"]
        assert (await status_after(http, clock, task_id, 200))["status"] == "completed"


def outcomes(backend: Backend, clock: ManualClock, n: int, **kwargs: Any) -> list[str]:
    ids = [create(backend, **kwargs) for _ in range(n)]
    clock.advance(10_000)
    return [backend.get("k", i).status.value for i in ids]


def test_failure_rate_gives_about_the_rate_and_repeats_under_the_seed() -> None:
    first = outcomes(*make(failure_rate=0.1, seed=3), 1000)
    again = outcomes(*make(failure_rate=0.1, seed=3), 1000)
    other = outcomes(*make(failure_rate=0.1, seed=4), 1000)
    failures = first.count("failed")
    assert 70 <= failures <= 130  # binomial(1000, 0.1): mean 100, sd 9.5; > 3 sd
    assert first == again
    assert first != other


def test_the_binomial_bound_can_fail() -> None:
    none = outcomes(*make(failure_rate=0.0), 200)
    assert not 14 <= none.count("failed") <= 26


def test_seeded_failures_carry_catalogue_errors_and_repeat() -> None:
    def errors(seed: int) -> list[tuple[int, str]]:
        backend, clock = make(failure_rate=1.0, seed=seed)
        ids = [create(backend) for _ in range(50)]
        clock.advance(10_000)
        return [(e.code, e.raw_message) for i in ids if (e := backend.get("k", i).error)]

    first = errors(1)
    assert len(first) == 50
    assert {code for code, _ in first} >= {1301, 5000, 5002}
    assert first == errors(1)


def test_per_outcome_rates() -> None:
    backend, clock = make(scenario_rates=("stuck=0.5",), seed=9)
    got = outcomes(backend, clock, 400)
    assert 150 <= got.count("processing") <= 250
    assert got.count("processing") + got.count("completed") == 400
    assert got == outcomes(*make(scenario_rates=("stuck=0.5",), seed=9), 400)


def test_rates_do_not_shift_ids_or_timings() -> None:
    plain, _ = make(seed=5)
    rated, _ = make(seed=5, failure_rate=0.5)
    a = [plain.create("k", body(), "x").record for _ in range(20)]
    b = [rated.create("k", body(), "x").record for _ in range(20)]
    assert [r.task_id for r in a] == [r.task_id for r in b]
    assert [r.start_at for r in a] == [r.start_at for r in b]


def test_rule_outcomes_repeat_under_reset() -> None:
    backend, clock = make(failure_rate=0.3, seed=2)
    first = outcomes(backend, clock, 100)
    backend.reset()
    assert outcomes(backend, clock, 100) == first


def test_rule_matching_on_every_field() -> None:
    backend, _ = make()
    stuck = scenarios.parse("stuck")
    cases: list[tuple[dict[str, Any], dict[str, Any], str, bool]] = [
        ({"version": "o1"}, {"version": "o1", "duration": 5}, "k", True),
        ({"version": "o1"}, {}, "k", False),
        ({"api_key": "vip"}, {}, "vip", True),
        ({"api_key": "vip"}, {}, "k", False),
        ({"enable_audio": True}, {"enable_audio": True}, "k", True),
        ({"duration": 10}, {"duration": 3}, "k", False),
        ({"duration": 3, "resolution": "720p"}, {}, "k", True),
    ]
    for match, changes, owner, hit in cases:
        backend.scenarios.add(stuck, match, scenarios.Firing())
        view = backend.create(owner, body(**changes), "x")
        assert (view.record.run_ns >= 2**62) is hit, match
        backend.scenarios.rules.clear()
    assert task_dict(view)["status"] == Status.PENDING.value


def script(seed: int) -> list[dict[str, Any]]:
    """Headers, a rule and rates together; every task body at three instants."""
    backend, clock = make(seed=seed, failure_rate=0.2, scenario_rates=("slow=0.2",))
    backend.scenarios.add(scenarios.parse("fail-after:12"), {"duration": 5}, scenarios.Firing())
    ids = [
        create(backend, scenario=header, duration=duration)
        for header in (None, "stuck", "fail:content_policy", None, "pending:40")
        for duration in (3, 5)
    ]
    bodies = []
    for step in (0, 30, 300):
        clock.advance(step)
        bodies += [task_dict(backend.get("k", i)) for i in ids]
    return bodies


def test_the_same_seed_gives_the_same_bodies() -> None:
    first = script(11)
    assert first == script(11)
    assert first != script(12)
    assert {b["status"] for b in first} >= {"pending", "processing", "completed", "failed"}
