"""One hanging webhook host cannot hold every delivery slot (issue #11: defect 5).

Counted, not timed: which attempts the dispatcher starts while a host is busy or failing."""

from __future__ import annotations

from mock_server.domain.backend import manual_backend
from mock_server.settings import Settings
from mock_server.webhooks import dispatcher_of
from mock_server.webhooks.hosts import HostGate
from tests.conftest import BASE_URL, seed_request

HANGING = "http://10.0.0.1:9000/hook"
HEALTHY = "http://10.0.0.2:9000/hook"


def body(endpoint: str) -> dict[str, object]:
    request = seed_request()
    request["config"]["webhook_config"]["endpoint"] = endpoint
    return request


def setup(hanging: int) -> tuple[object, list[str], str]:
    backend, clock = manual_backend(Settings(webhook_events="terminal", max_tasks=0))
    dispatcher = dispatcher_of(backend)
    stuck = [backend.create("k", body(HANGING), BASE_URL).task_id for _ in range(hanging)]
    healthy = backend.create(
        "k", body(HEALTHY), BASE_URL, scenario="complete-after:300"
    ).task_id  # due after every hanging one
    clock.advance(3600)
    return dispatcher, stuck, healthy


def test_a_busy_host_does_not_take_every_slot() -> None:
    dispatcher, _, healthy = setup(40)
    jobs = dispatcher.take(32)  # type: ignore[attr-defined]
    by_host = [job.target.endpoint for job in jobs]
    assert by_host.count(HANGING) == 4  # --webhook-per-host
    assert healthy in [job.task_id for job in jobs]  # not stuck behind 40 hanging ones
    assert dispatcher.schedule.parked() == 36  # type: ignore[attr-defined]


def test_parked_attempts_start_when_their_host_frees_a_slot() -> None:
    dispatcher, _, _ = setup(10)
    first = dispatcher.take(32)  # type: ignore[attr-defined]
    assert dispatcher.take(32) == []  # type: ignore[attr-defined]
    hanging = [job for job in first if job.target.endpoint == HANGING]
    with dispatcher._lock:  # type: ignore[attr-defined]
        dispatcher._host_done(hanging[0], True)  # type: ignore[attr-defined]
    again = dispatcher.take(32)  # type: ignore[attr-defined]
    assert [job.target.endpoint for job in again] == [HANGING]


def test_a_failing_host_backs_off_to_one_attempt_at_a_time() -> None:
    gate = HostGate(4)
    key = gate.key(HANGING)
    assert [gate.try_acquire(key) for _ in range(5)] == [True] * 4 + [False]
    for _ in range(4):
        gate.release(key, ok=False)
    assert gate.failing(key)
    assert [gate.try_acquire(key) for _ in range(2)] == [True, False]
    gate.release(key, ok=True)
    assert not gate.failing(key)


def test_the_check_catches_a_dispatcher_without_isolation() -> None:
    dispatcher, _, healthy = setup(40)
    dispatcher.hosts.per_host = 1000  # type: ignore[attr-defined]  # as before: one shared pool
    jobs = dispatcher.take(32)  # type: ignore[attr-defined]
    assert healthy not in [job.task_id for job in jobs]


def heap_after_one_freed_slot(dispatcher: object) -> tuple[int, int]:
    """(heap entries, parked entries) after one attempt of the busy host ended."""
    first = dispatcher.take(32)  # type: ignore[attr-defined]
    hanging = [job for job in first if job.target.endpoint == HANGING]
    schedule = dispatcher.schedule  # type: ignore[attr-defined]
    before = len(schedule._heap)
    with dispatcher._lock:  # type: ignore[attr-defined]
        dispatcher._host_done(hanging[0], True)  # type: ignore[attr-defined]
    return len(schedule._heap) - before, schedule.parked()


def test_a_freed_slot_brings_back_one_parked_attempt_not_the_whole_backlog() -> None:
    # Putting every parked entry back on each freed slot re-parked all but one of them each
    # time: quadratic in the backlog (the seed's refused webhook.site host under load).
    dispatcher, _, _ = setup(500)
    back, parked = heap_after_one_freed_slot(dispatcher)
    assert (back, parked) == (1, 495)
    again = dispatcher.take(32)  # type: ignore[attr-defined]
    assert [job.target.endpoint for job in again] == [HANGING]  # the earliest parked one


def test_the_backlog_check_catches_a_schedule_that_unparks_everything() -> None:
    dispatcher, _, _ = setup(500)
    schedule = dispatcher.schedule  # type: ignore[attr-defined]

    def unpark_all(key: str, room: int = 1) -> None:  # the old behaviour
        for entry in schedule._parked.pop(key, ()):
            schedule._heap.append(entry)

    schedule.unpark = unpark_all
    back, parked = heap_after_one_freed_slot(dispatcher)
    assert (back, parked) == (496, 0)
