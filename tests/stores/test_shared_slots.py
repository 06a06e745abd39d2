"""Concurrency slots over a shared store: one ``--max-concurrent`` limit per key for every
backend (process), a waiting line that is FIFO in the order creates reached the store, and
hand-overs replayed from the shared clock whichever process reads or moves it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_server.domain.backend import Backend
from mock_server.domain.queue import SlotQueue
from mock_server.settings import Settings
from tests.conftest import seed_request

FROZEN = 1e-9
S = 1_000_000_000


def pair_on(url: str, limit: int) -> tuple[Backend, Backend]:
    settings = Settings(store=url, speed=FROZEN, max_concurrent=limit)
    return Backend(settings), Backend(settings)


@pytest.fixture
def one_slot(shared_url: str) -> Iterator[tuple[Backend, Backend]]:
    a, b = pair_on(shared_url, 1)
    yield a, b
    a.store.close()
    b.store.close()


def create(backend: Backend, scenario: str, owner: str = "k") -> str:
    return backend.create(owner, seed_request(), "http://127.0.0.1", scenario=scenario).task_id


def status(backend: Backend, task_id: str) -> str:
    return backend.get("k", task_id).status.value


def check_one_limit(a: Backend, b: Backend) -> None:
    """One slot for the key across ``a`` and ``b``: the line is FIFO across both."""
    first = create(a, "pending:0,complete-after:10")
    second = create(b, "pending:0,complete-after:10")
    third = create(a, "pending:0,complete-after:10")
    a.advance(5)
    assert [status(b, t) for t in (first, second, third)] == ["processing", "pending", "pending"]
    b.advance(10)  # the first ended at 10 s: the second (created on b) took the slot
    assert [status(a, t) for t in (first, second, third)] == [
        "completed",
        "processing",
        "pending",
    ]
    start = b.get("k", second).record.start_at
    end = a.get("k", first).record.end_at
    assert start == end
    other = create(b, "pending:0", owner="other")
    assert b.get("other", other).status.value == "processing"  # another key: its own lane


def test_one_limit_per_key_across_processes(one_slot: tuple[Backend, Backend]) -> None:
    check_one_limit(*one_slot)


def test_per_process_slots_fail_the_limit_check(one_slot: tuple[Backend, Backend]) -> None:
    """The broken input: each backend keeps its own lanes (the one-process queue)."""
    a, b = one_slot
    for backend in (a, b):
        backend.queue = SlotQueue(1, backend._started)
    with pytest.raises(AssertionError):
        check_one_limit(a, b)


def test_a_cancel_on_one_hands_the_slot_over_on_the_other(
    one_slot: tuple[Backend, Backend],
) -> None:
    a, b = one_slot
    first = create(a, "pending:30")
    second = create(a, "pending:0")
    a.advance(5)
    assert status(b, second) == "pending"
    b.cancel("k", first)
    assert status(a, second) == "processing"
    waiting = create(b, "pending:0")
    a.cancel("k", waiting)  # a waiting task leaves the line from any process
    assert status(b, waiting) == "failed"


def test_hand_overs_replay_in_order_without_reads(shared_url: str) -> None:
    a, b = pair_on(shared_url, 2)
    try:
        ids = [create((a, b)[n % 2], "complete-after:10,pending:0") for n in range(6)]
        b.advance(35)  # three generations of two finish
        starts = [a.get("k", i).record.start_at for i in ids]
        base = starts[0]
        assert base is not None
        assert None not in starts
        offsets = [(s or 0) - base for s in starts]
        assert offsets == [0, 0, 10 * S, 10 * S, 20 * S, 20 * S]
    finally:
        a.store.close()
        b.store.close()


def test_a_forced_waiting_task_holds_a_slot_everywhere(one_slot: tuple[Backend, Backend]) -> None:
    a, b = one_slot
    first = create(a, "pending:0,stuck")
    second = create(b, "pending:0")
    record = b.store.get(second)
    assert record is not None
    b.force(record, "advance")  # starts now, past the limit
    assert status(a, second) == "processing"
    third = create(a, "pending:0")
    assert status(b, third) == "pending"
    assert status(a, first) == "processing"
