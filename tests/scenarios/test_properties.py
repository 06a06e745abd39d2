"""Random rule sets, headers, rates, limits and forced moves on the manual clock: every task
stays contract-valid and possible, and the wallet agrees with the tasks."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.domain import scenarios
from mock_server.domain.backend import Backend
from mock_server.domain.errors import PiapiError
from mock_server.domain.models import TaskView
from mock_server.domain.render import envelope_json
from mock_server.schema_registry import default_registry
from tests.scenarios.helpers import body, impossible, make

SCENARIOS = [
    "complete",
    "complete-after:0",
    "complete-after:30",
    "fail",
    "fail:content_policy",
    "fail-after:0:invalid_input",
    "fail-after:45:upstream_timeout",
    "slow",
    "slow:1.5",
    "stuck",
    "pending:0",
    "pending:40,fail:concurrency_limit",
    "stuck,complete-after:5",
]
MATCHES: list[dict[str, Any]] = [
    {},
    {"resolution": "1080p"},
    {"api_key": "b"},
    {"prompt_contains": "cat"},
    {"enable_audio": True, "duration": 5},
]

account_settings = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 1000),
        "max_concurrent": st.sampled_from([0, 1, 2]),
        "credits_usd": st.sampled_from([0.0, 1.0, 3.0]),
        "failure_rate": st.sampled_from([0.0, 0.3]),
        "scenario_rates": st.sampled_from([(), ("stuck=0.2",), ("slow=0.3", "fail=0.1")]),
        "cancel_status": st.sampled_from(["failed", "cancelled"]),
    }
)
rules = st.lists(
    st.tuples(
        st.sampled_from(SCENARIOS),
        st.sampled_from(MATCHES),
        st.none() | st.integers(1, 3),
        st.integers(1, 3),
    ),
    max_size=4,
)
actions = st.lists(
    st.one_of(
        st.tuples(
            st.just("create"),
            st.sampled_from(["a", "b"]),
            st.fixed_dictionaries(
                {
                    "resolution": st.sampled_from(["720p", "1080p"]),
                    "enable_audio": st.booleans(),
                    "duration": st.sampled_from([3, 5]),
                    "prompt": st.sampled_from(["a cat", "the sea"]),
                }
            ),
            st.none() | st.sampled_from(SCENARIOS),
        ),
        st.tuples(st.just("advance"), st.floats(0, 150)),
        st.tuples(st.just("cancel"), st.integers(0, 30)),
        st.tuples(
            st.just("force"), st.integers(0, 30), st.sampled_from(["complete", "fail", "advance"])
        ),
    ),
    max_size=30,
)


def check_task(view: TaskView) -> None:
    payload = json.loads(envelope_json(view))
    assert default_registry().errors("response", payload) == [], payload
    assert impossible(payload["data"]) == [], payload


def check_wallets(backend: Backend, views: list[TaskView]) -> None:
    frozen: Counter[str] = Counter()
    used: Counter[str] = Counter()
    for view in views:
        if view.status.value == "completed":
            used[view.record.owner] += view.record.cost
        elif view.status.value in {"pending", "processing"}:
            frozen[view.record.owner] += view.record.cost
    for owner in ("a", "b"):
        wallet = backend.account(owner)["wallet"]
        assert (wallet["point_frozen"], wallet["point_used"]) == (frozen[owner], used[owner])
        if backend.ledger.credits:
            assert wallet["point_remain"] >= 0


def check_limits(backend: Backend, views: list[TaskView], forced: set[str]) -> None:
    limit = backend.settings.max_concurrent
    if not limit:
        return
    running = Counter(
        v.record.owner for v in views if v.status.value == "processing" and v.task_id not in forced
    )
    assert all(n <= limit for n in running.values()), running
    for owner in ("a", "b"):
        mine = [v for v in views if v.record.owner == owner and not v.status.terminal]
        waiting = [v for v in mine if v.record.start_at is None]
        holding = len(mine) - len(waiting)
        assert not waiting or holding >= limit, f"{owner}: a free slot while tasks wait"


def run(config: dict[str, Any], rule_set: list[Any], steps: list[Any]) -> None:
    backend, _ = make(**config)
    for text, match, times, every in rule_set:
        firing = scenarios.Firing(times=times, every=every)
        backend.scenarios.add(scenarios.parse(text), dict(match), firing)
    ids: list[tuple[str, str]] = []
    forced: set[str] = set()
    refused: list[int] = []
    for step in steps:
        try:
            if step[0] == "create":
                _, owner, changes, header = step
                view = backend.create(owner, body(**changes), "http://x", scenario=header)
                ids.append((owner, view.task_id))
            elif step[0] == "advance":
                backend.advance(step[1])
            elif ids and step[0] == "cancel":
                backend.cancel(*ids[step[1] % len(ids)])
            elif ids:
                owner, task_id = ids[step[1] % len(ids)]
                forced.add(task_id)
                backend.force(backend.record(owner, task_id), step[2], None)
        except PiapiError as exc:
            refused.append(exc.status)
        assert set(refused) <= {400, 402, 409}, refused
        views = [backend.get(owner, task_id) for owner, task_id in ids]
        for view in views:
            check_task(view)
        check_wallets(backend, views)
        check_limits(backend, views, forced)


@settings(max_examples=150, deadline=None)
@given(account_settings, rules, actions)
def test_no_rule_set_leaves_an_impossible_state(
    config: dict[str, Any], rule_set: list[Any], steps: list[Any]
) -> None:
    run(config, rule_set, steps)


def test_the_checks_catch_a_broken_task() -> None:
    backend, clock = make()
    view = backend.create("a", body(), "http://x")
    clock.advance(500)
    done = backend.get("a", view.task_id)
    check_task(done)
    payload = json.loads(envelope_json(done))
    payload["data"]["output"]["video"] = ""
    assert impossible(payload["data"]) == ["completed without a video"]
    assert default_registry().errors("response", payload) != []
    payload["data"]["status"] = "failed"
    assert "consume > 0 on failed" in impossible(payload["data"])
    assert default_registry().errors("response", payload) != []


def test_the_wallet_check_catches_a_wrong_ledger() -> None:
    backend, _ = make()
    view = backend.create("a", body(), "http://x")
    backend.ledger.account("a").frozen += 1
    try:
        check_wallets(backend, [backend.get("a", view.task_id)])
    except AssertionError:
        return
    raise AssertionError("a wrong ledger went unnoticed")


def test_the_slot_check_catches_a_lost_slot() -> None:
    backend, _ = make(max_concurrent=1)
    ids = [backend.create("a", body(), "http://x").task_id for _ in range(2)]
    check_limits(backend, [backend.get("a", i) for i in ids], set())
    first = backend.get("a", ids[0]).record
    first.start_at = None  # the holder forgets its slot while the second still waits
    try:
        check_limits(backend, [backend.get("a", i) for i in ids], set())
    except AssertionError:
        return
    raise AssertionError("a free slot with a waiting task went unnoticed")
