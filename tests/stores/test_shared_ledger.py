"""Credit ledgers over a shared store: one wallet per key for every backend (process), an
admission that two processes cannot both pass for the last credits, and the same frozen /
consumed / released rules as one process (``tests/scenarios/test_account.py``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from mock_server.domain.backend import Backend
from mock_server.domain.errors import InsufficientCredits
from mock_server.domain.models import TaskRecord
from mock_server.domain.store import Held, Hold, TaskStore, add_held_in_steps
from mock_server.settings import Settings
from mock_server.stores import open_store
from tests.conftest import seed_request

FROZEN = 1e-9
#: The seed's prices: a 3 s 720p task without audio; 10^7 points per USD.
THREE_S = 4_500_000
FIVE_S_AUDIO = 10_000_000


def backend_on(url: str, store: TaskStore | None = None, **settings: object) -> Backend:
    return Backend(Settings(store=url, speed=FROZEN, **settings), store=store)  # type: ignore[arg-type]


def make_pair(url: str, **settings: object) -> tuple[Backend, Backend]:
    return backend_on(url, None, **settings), backend_on(url, None, **settings)


@pytest.fixture
def ten_usd(shared_url: str) -> Iterator[tuple[Backend, Backend]]:
    a, b = make_pair(shared_url, credits_usd=10)
    yield a, b
    a.store.close()
    b.store.close()


def create(backend: Backend, scenario: str | None = None, **changes: object) -> str:
    body = seed_request()
    body["input"].update(changes)
    return backend.create("k", body, "http://127.0.0.1", scenario=scenario).task_id


def wallet(backend: Backend, owner: str = "k") -> tuple[int, int, int]:
    w = backend.account(owner)["wallet"]
    return w["point_remain"], w["point_frozen"], w["point_used"]


def test_points_are_frozen_consumed_and_released_as_every_process_sees(
    ten_usd: tuple[Backend, Backend],
) -> None:
    a, b = ten_usd
    ten = 100_000_000
    done = create(a)
    failed = create(b, scenario="fail-after:40")
    cancelled = create(a, scenario="pending:60", duration=5, enable_audio=True)
    frozen = 2 * THREE_S + FIVE_S_AUDIO
    assert wallet(a) == wallet(b) == (ten - frozen, frozen, 0)
    b.cancel("k", cancelled)  # created on a, cancelled on b
    assert wallet(a) == (ten - 2 * THREE_S, 2 * THREE_S, 0)
    b.advance(41)  # the failure (created on b) releases; a sees it
    assert a.get("k", failed).status.value == "failed"
    assert wallet(a) == (ten - THREE_S, THREE_S, 0)
    a.advance(100)
    assert b.get("k", done).status.value == "completed"
    assert wallet(b) == wallet(a) == (ten - THREE_S, 0, THREE_S)
    assert wallet(b, "other") == (ten, 0, 0)


def test_a_forced_task_settles_at_its_new_end_everywhere(ten_usd: tuple[Backend, Backend]) -> None:
    a, b = ten_usd
    task_id = create(a, scenario="stuck")
    assert wallet(b)[1:] == (THREE_S, 0)
    record = b.store.get(task_id)
    assert record is not None
    b.force(record, "fail")
    assert wallet(a)[1:] == (0, 0)  # forced to fail now: released on a too


def test_a_reset_forgets_every_wallet(ten_usd: tuple[Backend, Backend]) -> None:
    a, b = ten_usd
    create(a)
    b.reset()
    assert wallet(a)[1:] == (0, 0)


def race(a: Backend, b: Backend) -> list[str]:
    """``a`` and ``b`` create at once (two threads); what each got."""
    results: list[str] = []
    start = threading.Barrier(2)

    def one(backend: Backend) -> None:
        start.wait(timeout=10)
        try:
            create(backend)
            results.append("created")
        except InsufficientCredits:
            results.append("402")

    threads = [threading.Thread(target=one, args=(x,)) for x in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(results)


def check_admission(make: Callable[[], tuple[Backend, Backend]]) -> None:
    """Credits for one create; two processes ask at once: one is created, one is a 402."""
    a, b = make()
    try:
        for _ in range(3):
            a.reset()
            assert race(a, b) == ["402", "created"]
            assert wallet(a)[1] == wallet(b)[1] == THREE_S
    finally:
        a.store.close()
        b.store.close()


def test_two_processes_cannot_both_spend_the_last_credits(shared_url: str) -> None:
    check_admission(lambda: make_pair(shared_url, credits_usd=0.5))


class CheckThenAdd:
    """A broken store: the ledger reads the balance, then adds without the limit (not one
    atomic step); a barrier makes both racers read before either adds."""

    def __init__(self, url: str, barrier: threading.Barrier) -> None:
        self.inner = open_store(url)
        self.barrier = barrier

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def __len__(self) -> int:
        return len(self.inner)

    def ledger(
        self, account: str, now: int, op: str = "", hold: Hold | None = None, limit: int = 0
    ) -> tuple[bool, int, int]:
        if op not in {"freeze", "use"} or hold is None:
            return self.inner.ledger(account, now, op, hold, limit)
        _, frozen, used = self.inner.ledger(account, now)
        self.barrier.wait(timeout=10)
        if limit and frozen + used + hold.cost > limit:
            return False, frozen, used
        return self.inner.ledger(account, now, op, hold, 0)

    def add_held(
        self, record: TaskRecord, guard: tuple[str, str] | None, held: Held
    ) -> tuple[int, int, int]:
        """The create's ledger step and add, through the broken ledger above."""
        return add_held_in_steps(self, record, guard, held)  # type: ignore[arg-type]


def test_a_check_then_add_ledger_fails_the_admission_check(shared_url: str) -> None:
    barrier = threading.Barrier(2)

    def broken() -> tuple[Backend, Backend]:
        stores = [CheckThenAdd(shared_url, barrier) for _ in range(2)]
        a, b = (backend_on(shared_url, s, credits_usd=0.5) for s in stores)  # type: ignore[arg-type]
        return a, b

    with pytest.raises(AssertionError):
        check_admission(broken)
