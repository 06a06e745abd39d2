"""The refused lane: events to an endpoint the policy refuses (the seed's ``webhook.site``,
offline by default) are logged at their own instants, once each, with no sender wake-up per
task, and a reader of the log never misses one that is due."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain.clock import NS, ManualClock
from mock_server.domain.models import Status, TaskRecord
from mock_server.domain.render import rfc3339
from mock_server.webhooks import Dispatcher
from mock_server.webhooks.background import Background
from mock_server.webhooks.events import task_events
from mock_server.webhooks.log import Attempt, DeliveryLog, refused_attempt
from mock_server.webhooks.refused_lane import RefusedLane, lines
from tests.conftest import KEY, seed_request
from tests.webhooks import records
from tests.webhooks.records import T0

pytestmark = pytest.mark.anyio


def record(task_id: str = "t1", **kwargs: Any) -> TaskRecord:
    return records.record(task_id, endpoint="https://webhook.site/x", **kwargs)


@given(
    start=st.none() | st.integers(-1, 3).map(lambda n: T0 + n * NS // 2),
    run=st.integers(0, 3).map(lambda n: n * NS),
    cancelled=st.none() | st.integers(-1, 3).map(lambda n: T0 + n * NS),
    failed=st.booleans(),
    mode=st.sampled_from(["all", "terminal"]),
    cancel_status=st.sampled_from([Status.FAILED, Status.CANCELLED]),
)
def test_lines_are_the_events_of_every_record(
    start: int | None,
    run: int,
    cancelled: int | None,
    failed: bool,
    mode: str,
    cancel_status: Status,
) -> None:
    r = record(start=start, run=run, cancelled=cancelled, failed=failed)
    expected = [(e.at_ns, e.status.value) for e in task_events(r, mode, cancel_status)]
    assert list(lines(r, mode == "terminal", cancel_status.value)) == expected


def drain(lane: RefusedLane, now: int) -> list[tuple[str, int, str]]:
    due = lane.due(now, 1 << 30)
    assert all(entry[1:3] == ("http://x", "refused") for entry in due)
    return [(task_id, at, status) for task_id, _, _, lines in due for at, status in lines]


def test_each_event_is_concluded_once_when_due() -> None:
    lane = RefusedLane()
    lane.plan(record("a"), "http://x", "refused")
    lane.plan(record("b", start=T0 + 5 * NS), "http://x", "refused")
    assert lane.queued() == 6
    assert drain(lane, T0) == [("a", T0, "pending"), ("b", T0, "pending")]
    assert drain(lane, T0) == []
    assert lane.next_due() == T0 + NS
    assert drain(lane, T0 + 6 * NS) == [
        ("a", T0 + NS, "processing"),
        ("b", T0 + 5 * NS, "processing"),
    ]
    assert drain(lane, T0 + 100 * NS) == [
        ("a", T0 + 11 * NS, "completed"),
        ("b", T0 + 15 * NS, "completed"),
    ]
    assert lane.queued() == 0
    assert lane.next_due() is None
    # a change after the end plans nothing
    lane.plan(record("a", cancelled=T0 + 50 * NS), "http://x", "refused")
    assert drain(lane, T0 + 100 * NS) == []


def test_a_task_created_earlier_than_the_last_is_not_held_behind_it() -> None:
    lane = RefusedLane()
    late = record("late")
    late.created_at, late.start_at = T0 + 5 * NS, T0 + 6 * NS
    lane.plan(late, "http://x", "refused")
    lane.plan(record("early"), "http://x", "refused")  # a clock set back between the two
    assert lane.next_due() == T0
    assert drain(lane, T0) == [("early", T0, "pending")]


def test_a_change_keeps_what_was_concluded() -> None:
    lane = RefusedLane()
    r = record()
    lane.plan(r, "http://x", "refused")
    assert [s for _, _, s in drain(lane, T0 + 2 * NS)] == ["pending", "processing"]
    r.cancelled_at = T0 + 3 * NS  # cancelled while processing
    lane.plan(r, "http://x", "refused")
    assert drain(lane, T0 + 100 * NS) == [("t1", T0 + 3 * NS, "failed")]
    assert lane.knows("t1")


def test_a_forgotten_task_is_dropped_unless_under_way() -> None:
    lane = RefusedLane()
    lane.plan(record("fresh"), "http://x", "refused")
    lane.plan(record("started"), "http://x", "refused")
    drain(lane, T0)
    lane.plan(record("new"), "http://x", "refused")
    lane.forget("new")
    lane.forget("started")  # its pending line is logged: it runs to its end
    assert drain(lane, T0 + 100 * NS) == [  # a task's due lines come together
        ("fresh", T0 + NS, "processing"),
        ("fresh", T0 + 11 * NS, "completed"),
        ("started", T0 + NS, "processing"),
        ("started", T0 + 11 * NS, "completed"),
    ]


@given(
    size=st.integers(1, 6),
    writes=st.lists(st.integers(0, 3), max_size=12),  # 0: one attempt; n: a batch of n lines
)
def test_the_log_keeps_exactly_the_last_attempts(size: int, writes: list[int]) -> None:
    log, every = DeliveryLog(size), list[Attempt]()
    for number, width in enumerate(writes):
        if width == 0:
            attempt = Attempt("completed", f"t{number}", "http://h", 1, number, 200, "", 1.0, "ok")
            log.record(attempt)
            every.append(attempt)
            continue
        batch = tuple((number * 10 + i, "pending") for i in range(width))
        assert log.record_refused([(f"t{number}", "http://x", "no", batch)]) == width
        every += [refused_attempt(e, f"t{number}", "http://x", at, "no") for at, e in batch]
    assert list(log) == every[-size:]
    assert len(log) == len(every[-size:])
    assert log.count == len(every)


async def _create(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/api/v1/task", json=seed_request(), headers=KEY)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def _task(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    data: dict[str, Any] = (await client.get(f"/api/v1/task/{task_id}", headers=KEY)).json()["data"]
    return data


async def test_a_reader_sees_every_due_line_at_its_instant(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher
) -> None:
    task_id = (await _create(client))["task_id"]
    clock.advance(30)  # processing by now (the seed renders for ~110 s)
    # no run_until_idle: reading the log works the lane off first
    assert [(a.event, a.result) for a in dispatcher.log] == [
        ("pending", "rejected"),
        ("processing", "rejected"),
    ]
    clock.advance(3600)
    log = list(dispatcher.log)
    assert dispatcher.log.count == len(log) == 3
    task = await _task(client, task_id)
    meta = task["meta"]
    instants = [meta["created_at"], meta["started_at"], meta["ended_at"]]
    assert [rfc3339(a.at_ns) for a in log] == instants
    assert [a.event for a in log] == ["pending", "processing", "completed"]
    assert {a.task_id for a in log} == {task_id}
    assert all(a.status is None and a.attempt == 1 and "webhook.site" in a.error for a in log)


async def test_a_cancel_in_the_lane_ends_with_the_cancel(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher
) -> None:
    task_id = (await _create(client))["task_id"]
    assert [a.event for a in dispatcher.log] == ["pending"]
    cancelled = await client.delete(f"/api/v1/task/{task_id}", headers=KEY)
    assert cancelled.status_code == 200, cancelled.text
    cancel_at = clock.now()
    clock.advance(3600)
    assert [(a.event, a.at_ns) for a in dispatcher.log][1:] == [("failed", cancel_at)]
    assert len(dispatcher.log) == 2


async def test_a_redelivery_logs_only_the_event_asked_for(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher
) -> None:
    task_id = (await _create(client))["task_id"]
    clock.advance(30)
    asked = await client.post(
        "/_mock/webhooks/redeliver", json={"task_id": task_id, "event": "pending"}
    )
    assert asked.status_code == 200, asked.text
    clock.advance(3600)
    await dispatcher.run_until_idle()
    events = [(a.event, a.redelivery) for a in dispatcher.log]
    assert sorted(events) == [
        ("completed", False),
        ("pending", False),
        ("pending", True),
        ("processing", False),
    ]


async def test_refused_tasks_do_not_wake_the_sender_per_task(
    client: httpx.AsyncClient,
    clock: ManualClock,
    dispatcher: Dispatcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pokes: list[Background] = []
    poke = Background.poke

    def counted(self: Background) -> None:
        pokes.append(self)
        poke(self)

    monkeypatch.setattr(Background, "poke", counted)
    await dispatcher.start()
    try:
        await asyncio.sleep(0)  # the sender's first turn: nothing planned, it waits
        for _ in range(20):
            await _create(client)
        assert len(pokes) <= 1  # one wake-up arms the lane's turn, not one per task
        clock.advance(3600)  # clock_moved wakes it; the lane is worked off
        assert await dispatcher.wait_idle(timeout=5.0)
        assert dispatcher.log.count == 60
    finally:
        await dispatcher.stop()
