"""The schedule alone: pure, no sockets, no waiting."""

from __future__ import annotations

import pytest

from mock_server.domain.clock import NS
from mock_server.domain.models import Failure, Status
from mock_server.settings import Settings
from mock_server.webhooks.events import task_events
from mock_server.webhooks.schedule import Job, Result, Schedule
from mock_server.webhooks.sender import refusal
from tests.webhooks.records import T0, record


def names(jobs: list[Job]) -> list[str]:
    return [f"{j.task_id}:{j.event.status.value}" for j in jobs]


def drain(schedule: Schedule, now: int) -> list[str]:
    """Take and deliver (successfully) everything due at ``now``, in rounds."""
    seen: list[str] = []
    while jobs := schedule.take(now, 100):
        seen += names(jobs)
        for job in jobs:
            schedule.finish(job, ok=True, retryable=True, now=now)
    return seen


def test_events_follow_the_transitions() -> None:
    r = record()
    assert [(e.status, e.at_ns) for e in task_events(r, "all", Status.FAILED)] == [
        (Status.PENDING, T0),
        (Status.PROCESSING, T0 + NS),
        (Status.COMPLETED, T0 + 11 * NS),
    ]
    assert [e.status for e in task_events(r, "terminal", Status.FAILED)] == [Status.COMPLETED]
    r.cancelled_at = T0 + NS // 2
    assert [e.status for e in task_events(r, "all", Status.CANCELLED)] == [
        Status.PENDING,
        Status.CANCELLED,
    ]


def test_only_what_is_due_is_taken() -> None:
    schedule = Schedule(Settings())
    schedule.plan(record())
    assert schedule.next_due() == T0
    assert drain(schedule, T0 - 1) == []
    assert drain(schedule, T0) == ["t1:pending"]
    assert schedule.next_due() == T0 + NS
    assert drain(schedule, T0 + 20 * NS) == ["t1:processing", "t1:completed"]
    assert schedule.next_due() is None
    assert schedule.queued() == 0


def test_a_task_is_never_taken_twice_while_busy() -> None:
    schedule = Schedule(Settings())
    r = record()
    schedule.plan(r)
    schedule.plan(r)  # a duplicate heap entry
    (job,) = schedule.take(T0 + 20 * NS, 100)
    schedule.plan(r)  # replanned while in flight
    assert schedule.take(T0 + 20 * NS, 100) == []
    assert schedule.finish(job, ok=True, retryable=True, now=T0) is Result.DELIVERED
    assert drain(schedule, T0 + 20 * NS) == ["t1:processing", "t1:completed"]


def test_a_queued_task_getting_its_start_is_replanned() -> None:
    schedule = Schedule(Settings())
    r = record(start=None)
    schedule.plan(r)
    assert drain(schedule, T0 + 100 * NS) == ["t1:pending"]  # no start: nothing else
    r.start_at = T0 + 200 * NS
    schedule.plan(r)
    assert drain(schedule, T0 + 199 * NS) == []
    assert drain(schedule, T0 + 300 * NS) == ["t1:processing", "t1:completed"]


def test_stale_entries_are_dropped_on_change() -> None:
    schedule = Schedule(Settings())
    r = record()
    schedule.plan(r)
    assert drain(schedule, T0) == ["t1:pending"]
    r.failure = Failure(1, "x")
    r.run_ns = 0  # forced to fail the instant it starts: no processing event
    schedule.plan(r)
    assert drain(schedule, T0 + 100 * NS) == ["t1:failed"]


def test_retry_keeps_its_due_time_across_a_replan() -> None:
    schedule = Schedule(Settings(webhook_retry_delay=5))
    r = record()
    schedule.plan(r)
    (job,) = schedule.take(T0, 10)
    assert schedule.finish(job, ok=False, retryable=True, now=T0) is Result.RETRYING
    schedule.plan(r)  # e.g. another observer change
    assert schedule.next_due() == T0 + 5 * NS
    (again,) = schedule.take(T0 + 5 * NS, 10)
    assert again.attempt == 2
    assert again.body == job.body


def test_clear_drops_attempts_in_flight() -> None:
    schedule = Schedule(Settings())
    schedule.plan(record())
    (job,) = schedule.take(T0, 10)
    schedule.clear()
    assert schedule.finish(job, ok=False, retryable=True, now=T0) is Result.GAVE_UP
    assert schedule.next_due() is None


def test_untargeted_tasks_cost_nothing() -> None:
    schedule = Schedule(Settings())
    r = record()
    r.webhook = None
    schedule.plan(r)
    assert schedule.queues == {}


def run_with_chaos(settings: Settings) -> list[str]:
    schedule = Schedule(settings)
    for n in range(20):
        schedule.plan(record(f"t{n:02d}"))
    seen: list[str] = []
    for step in range(60):
        seen += drain(schedule, T0 + step * NS)
    return seen


def test_chaos_is_off_by_default_and_seeded_when_on() -> None:
    calm = run_with_chaos(Settings())
    assert len(calm) == 60
    for n in range(20):
        mine = [s for s in calm if s.startswith(f"t{n:02d}:")]
        assert mine == [f"t{n:02d}:{s}" for s in ("pending", "processing", "completed")]
    wild = Settings(webhook_chaos_reorder=0.5, webhook_chaos_delay=0.5, webhook_chaos_max_delay=5)
    first, second = run_with_chaos(wild), run_with_chaos(wild)
    assert first == second  # seeded: repeatable
    assert sorted(first) == sorted(calm)  # nothing lost
    assert first != calm  # and the order did change
    assert run_with_chaos(wild.replace(seed=1)) != first


def test_memory_a_task_is_one_heap_entry_until_due_and_nothing_once_done() -> None:
    schedule = Schedule(Settings())
    schedule.plan(record())
    assert schedule.queues == {}  # not due yet: no queue objects
    assert schedule.queued() == 3
    assert drain(schedule, T0) == ["t1:pending"]
    assert list(schedule.queues) == ["t1"]
    assert drain(schedule, T0 + 20 * NS) == ["t1:processing", "t1:completed"]
    assert schedule.queues == {}  # terminal concluded: dropped
    schedule.plan(record())  # a late change of a finished task sends nothing more
    assert drain(schedule, T0 + 40 * NS) == []


def test_unknown_event_mode_is_an_error() -> None:
    with pytest.raises(ValueError, match="must be all or terminal"):
        Schedule(Settings(webhook_events="everything"))


@pytest.mark.parametrize(
    ("url", "allow", "words"),
    [
        ("http://127.0.0.1:9/h", (), ""),
        ("https://Hooks.Example.test/x", ("hooks.example.test",), ""),
        ("https://evil.test/x", ("hooks.example.test",), "'evil.test' is not allowed"),
        ("ftp://hooks.example.test/x", (), "an http(s) URL"),
        ("http:///nohost", (), "an http(s) URL"),
        ("http://[::1/broken", (), "an http(s) URL"),
    ],
)
def test_refusal(url: str, allow: tuple[str, ...], words: str) -> None:
    found = refusal(url, allow)
    assert (words in found) if words else found == ""


def test_a_change_before_the_first_event_is_due_is_followed() -> None:
    schedule = Schedule(Settings())
    r = record()
    schedule.plan(r)
    r.cancelled_at = T0 + NS // 2  # cancelled before the pending event was even sent
    schedule.plan(r)
    assert drain(schedule, T0 + 100 * NS) == ["t1:pending", "t1:failed"]
    assert schedule.queues == {}
    assert schedule.next_due() is None
