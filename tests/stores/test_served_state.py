"""Real ``piapi-mock serve`` processes on one real Redis share the rest of the state: credit
ledgers, rules and faults, concurrency slots, the violation log. Each check is also run on
processes that keep that state per process (``memory://`` each) and shown failing there."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import seed_request
from tests.stores.conftest import RedisServer
from tests.stores.test_served import FROZEN, KEY, ReceiverProcess, Served, until

pytestmark = pytest.mark.socket

#: The seed's 3 s 720p task in points, and the points of one USD.
THREE_S = 4_500_000
POINTS_PER_USD = 10_000_000


def credits_for(creates: int) -> str:
    """``--credits-usd`` that buys exactly ``creates`` of the seed's task."""
    return f"{(creates * THREE_S + THREE_S // 2) / POINTS_PER_USD}"


Pair = tuple[Served, Served]


def pair_on(store_a: str, store_b: str, *flags: str) -> Iterator[Pair]:
    slow = FROZEN if store_a != "memory://" else ("--speed", "0.001")  # memory's lowest
    a = Served("--store", store_a, *slow, *flags)
    try:
        b = Served("--store", store_b, *slow, *flags)
    except BaseException:
        a.stop()
        raise
    try:
        yield a, b
    finally:
        b.stop()
        a.stop()


def shared(redis_server: RedisServer, *flags: str) -> Iterator[Pair]:
    url = redis_server.namespaced()
    yield from pair_on(url, url, *flags)


def per_process(*flags: str) -> Iterator[Pair]:
    """The broken input: two processes each with its own state."""
    yield from pair_on("memory://", "memory://", *flags)


def post(url: str, path: str, body: object) -> requests.Response:
    return requests.post(url + path, json=body, headers=KEY, timeout=10)


def check_credits_for_exactly_n(a: Served, b: Served, n: int = 3) -> None:
    """Credits for exactly ``n`` creates; ``3 n`` creates at once across both processes:
    exactly ``n`` are created, the rest are 402, and both report the same wallet."""
    urls = [a.url, b.url] * (3 * n // 2) + [a.url] * (3 * n % 2)
    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(lambda u: post(u, "/api/v1/task", seed_request()).status_code, urls))
    assert sorted(codes) == [200] * n + [402] * (2 * n), codes
    wallets = [
        requests.get(f"{u}/account/info", headers=KEY, timeout=10).json()["data"]["wallet"]
        for u in (a.url, b.url)
    ]
    assert wallets[0]["point_frozen"] == wallets[1]["point_frozen"] == n * THREE_S


def test_credits_for_n_creates_buy_exactly_n_across_processes(redis_server: RedisServer) -> None:
    for a, b in shared(redis_server, "--credits-usd", credits_for(3)):
        check_credits_for_exactly_n(a, b)


def test_per_process_ledgers_fail_the_credits_check() -> None:
    for a, b in per_process("--credits-usd", credits_for(3)):
        with pytest.raises(AssertionError):
            check_credits_for_exactly_n(a, b)


def check_one_fault_fires_once(a: Served, b: Served) -> None:
    """A ``times: 1`` fault posted on ``a`` fires exactly once among creates on both."""
    posted = post(a.url, "/_mock/faults", {"fault": "503", "on": "create", "times": 1})
    assert posted.status_code == 201, posted.text
    codes = [post(u, "/api/v1/task", seed_request()).status_code for u in (b.url, a.url) * 2]
    assert codes == [503, 200, 200, 200], codes  # b's first create, after a answered
    log = requests.get(f"{b.url}/_mock/faults/log", timeout=10).json()
    assert log["count"] == 1


def test_a_times_one_fault_fires_once_across_processes(redis_server: RedisServer) -> None:
    for a, b in shared(redis_server):
        check_one_fault_fires_once(a, b)


def test_per_process_fault_rules_fail_the_fault_check() -> None:
    for a, b in per_process():
        with pytest.raises(AssertionError):
            check_one_fault_fires_once(a, b)


def check_rule_on_a_changes_task_on_b(a: Served, b: Served) -> None:
    """An outcome rule posted on ``a`` decides a task created on ``b``'s workers."""
    posted = post(a.url, "/_mock/rules", {"scenario": "fail:content_policy"})
    assert posted.status_code == 201, posted.text
    task_ids = []
    for _ in range(4):  # new connections: both of b's workers create some
        with requests.Session() as session:
            created = session.post(f"{b.url}/api/v1/task", json=seed_request(), headers=KEY)
            task_ids.append(created.json()["data"]["task_id"])
    post(b.url, "/_mock/clock/advance", {"seconds": 100})
    for task_id in task_ids:
        got = requests.get(f"{b.url}/api/v1/task/{task_id}", headers=KEY, timeout=10).json()
        assert got["data"]["status"] == "failed", got
        assert got["data"]["error"]["code"] == 1301


def test_a_rule_posted_on_one_process_decides_tasks_created_on_another(
    redis_server: RedisServer,
) -> None:
    url = redis_server.namespaced()
    a = Served("--store", url, *FROZEN)
    try:
        b = Served("--store", url, "--workers", "2", *FROZEN)
        try:
            check_rule_on_a_changes_task_on_b(a, b)
        finally:
            b.stop()
    finally:
        a.stop()


def test_per_process_outcome_rules_fail_the_rule_check() -> None:
    for a, b in per_process():
        with pytest.raises(AssertionError):
            check_rule_on_a_changes_task_on_b(a, b)


def check_one_slot_across_processes(a: Served, b: Served) -> None:
    """``--max-concurrent 1``: a task created on ``b`` waits for ``a``'s to end."""
    scenario = {**KEY, "X-Mock-Scenario": "pending:0,complete-after:10"}

    def create_on(url: str) -> str:
        answer = requests.post(f"{url}/api/v1/task", json=seed_request(), headers=scenario)
        assert answer.status_code == 200, answer.text
        task_id: str = answer.json()["data"]["task_id"]
        return task_id

    def status(url: str, task_id: str) -> str:
        got = requests.get(f"{url}/api/v1/task/{task_id}", headers=KEY, timeout=10).json()
        found: str = got["data"]["status"]
        return found

    first, second = create_on(a.url), create_on(b.url)
    post(a.url, "/_mock/clock/advance", {"seconds": 5})
    assert [status(b.url, second), status(a.url, first)] == ["pending", "processing"]
    post(a.url, "/_mock/clock/advance", {"seconds": 10})
    assert status(b.url, second) == "processing"


def test_one_concurrency_limit_across_processes(redis_server: RedisServer) -> None:
    for a, b in shared(redis_server, "--max-concurrent", "1"):
        check_one_slot_across_processes(a, b)


def test_per_process_slots_fail_the_slot_check() -> None:
    for a, b in per_process("--max-concurrent", "1"):
        with pytest.raises(AssertionError):
            check_one_slot_across_processes(a, b)


def check_one_violation_log(a: Served, b: Served) -> None:
    """``--strict``: a request refused by ``a`` is listed by ``b``."""
    refused = post(a.url, "/api/v1/task", {"model": "kling"})
    assert refused.status_code == 400
    found = requests.get(f"{b.url}/_mock/violations", timeout=10).json()
    assert found["count"] == 1, found
    assert [v["path"] for v in found["violations"]] == ["/api/v1/task"]


def test_the_violation_log_is_one_across_processes(redis_server: RedisServer) -> None:
    for a, b in shared(redis_server, "--strict"):
        check_one_violation_log(a, b)


def test_per_process_violation_logs_fail_the_violation_check() -> None:
    for a, b in per_process("--strict"):
        with pytest.raises(AssertionError):
            check_one_violation_log(a, b)


def check_one_redelivery(a: Served, b: Served) -> None:
    """A redelivery asked of ``b`` for a task created on ``a`` reaches the receiver once."""
    receiver = ReceiverProcess()
    try:
        body = seed_request()
        body["config"]["webhook_config"] = {"endpoint": receiver.url, "secret": ""}
        task_id = post(a.url, "/api/v1/task", body).json()["data"]["task_id"]
        post(a.url, "/_mock/clock/advance", {"seconds": 10_000})
        until(lambda: receiver.counts()["count"] >= 3, what="the three events")
        asked = post(b.url, "/_mock/webhooks/redeliver", {"task_id": task_id})
        assert asked.status_code == 200, asked.text
        until(lambda: receiver.counts()["count"] >= 4, what="the redelivery")
        deadline = time.monotonic() + 0.5  # a duplicate would come within a poll (0.05 s)
        while time.monotonic() < deadline:
            assert receiver.counts()["count"] == 4
            time.sleep(0.05)
    finally:
        receiver.stop()


def test_a_redelivery_is_sent_once_across_processes(redis_server: RedisServer) -> None:
    for a, b in shared(redis_server):
        check_one_redelivery(a, b)


def test_per_process_redeliveries_fail_the_redelivery_check() -> None:
    """Two separate processes: the one asked does not know the task (its own state)."""
    for a, b in per_process():
        with pytest.raises(AssertionError):
            check_one_redelivery(a, b)
