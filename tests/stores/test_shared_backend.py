"""Two backends over one shared store behave as one fake: tasks, the clock, the journal and
task ids are shared; ``memory://`` keeps today's ids for a given seed exactly."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest

from mock_server.domain.backend import Backend
from mock_server.domain.errors import TaskNotFound
from mock_server.domain.journal import JournalEntry
from mock_server.domain.models import Status
from mock_server.domain.shared import StoreClock, StoreJournal
from mock_server.domain.store import DuplicateTask
from mock_server.settings import Settings
from mock_server.stores import open_store
from tests.conftest import seed_request

#: Virtual time hardly flows on its own: only an advance moves it (no wall waits in tests).
FROZEN = 1e-9


def backend_on(url: str, seed: int = 3) -> Backend:
    return Backend(Settings(store=url, seed=seed, speed=FROZEN))


@pytest.fixture
def pair(shared_url: str) -> Iterator[tuple[Backend, Backend]]:
    a, b = backend_on(shared_url), backend_on(shared_url)
    yield a, b
    a.store.close()
    b.store.close()


def test_a_task_created_on_one_is_read_on_the_other(pair: tuple[Backend, Backend]) -> None:
    a, b = pair
    created = a.create("key", seed_request(), "http://127.0.0.1")
    seen = b.get("key", created.task_id)
    assert seen.record == created.record
    with pytest.raises(TaskNotFound):
        b.get("other-key", created.task_id)


def test_one_advance_moves_every_backend(pair: tuple[Backend, Backend]) -> None:
    a, b = pair
    first = a.create("key", seed_request(), "http://127.0.0.1").task_id
    second = b.create("key", seed_request(), "http://127.0.0.1").task_id
    assert b.get("key", first).status is Status.PENDING
    a.advance(10_000)
    assert b.get("key", first).status is Status.COMPLETED
    assert b.get("key", second).status is Status.COMPLETED
    assert a.get("key", second).status is Status.COMPLETED
    assert abs(a.clock.now() - b.clock.now()) < 10**6


def test_cancel_on_one_is_seen_on_the_other(pair: tuple[Backend, Backend]) -> None:
    a, b = pair
    task_id = a.create("key", seed_request(), "http://127.0.0.1").task_id
    b.cancel("key", task_id)
    assert a.get("key", task_id).status is Status.FAILED  # cancel shows as failed by default


def test_ids_never_repeat_across_backends_and_resets(pair: tuple[Backend, Backend]) -> None:
    a, b = pair
    ids = {a.create("key", seed_request(), "x").task_id for _ in range(3)}
    ids |= {b.create("key", seed_request(), "x").task_id for _ in range(3)}
    a.reset()
    ids |= {a.create("key", seed_request(), "x").task_id for _ in range(3)}
    assert len(ids) == 9


def test_the_journal_is_shared(pair: tuple[Backend, Backend]) -> None:
    a, b = pair
    assert isinstance(a.journal, StoreJournal)
    assert isinstance(b.journal, StoreJournal)
    a.journal.record(JournalEntry(1, "GET", "/a", 200, "t1"))
    a.journal.flush()  # written behind: the writer threads do this within milliseconds
    b.journal.record(JournalEntry(2, "POST", "/b", 404, "", "nope"))
    b.journal.flush()
    assert [e.path for e in a.journal] == ["/a", "/b"]
    assert b.journal.call_count == 2
    assert b.journal.last == JournalEntry(2, "POST", "/b", 404, "", "nope")
    a.reset()
    assert len(b.journal) == 0
    assert b.journal.call_count == 0


def test_the_journal_writer_thread_flushes_by_itself(pair: tuple[Backend, Backend]) -> None:
    a, b = pair
    a.journal.record(JournalEntry(1, "GET", "/a", 200, "t1"))
    deadline = time.monotonic() + 10  # bounded poll: the writer runs every 2 ms
    while b.store.log_count("journal") < 1:
        assert time.monotonic() < deadline, "the journal was never written"
        time.sleep(0.005)
    assert [e.path for e in b.journal] == ["/a"]


def test_a_create_on_a_stale_clock_is_shifted_to_the_shared_one(
    pair: tuple[Backend, Backend],
) -> None:
    """The guarded add: b advanced the clock after a last read it; a's task still starts
    at the shared "now", not at a's stale copy of it."""
    a, b = pair
    assert isinstance(a.clock, StoreClock)
    a.clock.refresh()
    stale = a.clock.now()
    b.advance(1000)
    a.clock._read_at = time.monotonic_ns() + 10**12  # a's copy never looks old: the guard
    # of the add is what notices the move
    record = a.create("key", seed_request(), "x").record
    assert record.created_at - stale >= 1000 * 10**9
    assert abs(record.created_at - b.clock.now()) < 10**9


def test_a_reset_keeps_the_shared_clock(pair: tuple[Backend, Backend]) -> None:
    a, b = pair
    a.advance(500)
    before = b.clock.now()
    a.reset()
    assert b.clock.now() >= before
    assert isinstance(b.clock, StoreClock)


def test_sqlite_restart_keeps_tasks_and_never_reuses_an_id(sqlite_url: str) -> None:
    first = backend_on(sqlite_url, seed=7)
    old = [first.create("key", seed_request(), "x").task_id for _ in range(5)]
    first.store.close()
    again = backend_on(sqlite_url, seed=7)  # same seed, as a restarted serve would be
    assert [again.get("key", task_id).task_id for task_id in old] == old
    new = [again.create("key", seed_request(), "x").task_id for _ in range(5)]
    assert not set(new) & set(old)
    again.store.close()


#: The first ids of seed 11 on memory://, as the fake handed them out before stores existed.
SEED_11_IDS = [
    "73ab4876-7734-47c1-87fd-e805ec99108d",
    "79cb9e86-830c-41c2-8dcc-69292f45e678",
    "244caf9c-4dab-4481-b253-edc618187993",
]


def test_memory_ids_are_exactly_todays_for_a_seed() -> None:
    backend = Backend(Settings(seed=11))
    assert [backend.create("key", seed_request(), "x").task_id for _ in range(3)] == SEED_11_IDS
    assert backend.generation == 0
    backend.reset()
    assert backend.create("key", seed_request(), "x").task_id == SEED_11_IDS[0]


def test_the_first_sqlite_boot_has_memorys_ids(sqlite_url: str) -> None:
    backend = backend_on(sqlite_url, seed=11)
    assert backend.create("key", seed_request(), "x").task_id == SEED_11_IDS[0]
    backend.store.close()


def test_a_backend_without_generations_would_reuse_ids(sqlite_url: str) -> None:
    """The restart check bites: ignoring the stored generation repeats the old ids."""

    class Forgetful(Backend):
        def _seeded_rng(self) -> random.Random:
            return random.Random(self.settings.seed)

    first = backend_on(sqlite_url, seed=7)
    old = first.create("key", seed_request(), "x").task_id
    first.store.close()
    again = Forgetful(Settings(store=sqlite_url, seed=7, speed=FROZEN))
    with pytest.raises(DuplicateTask, match=old):
        again.create("key", seed_request(), "x")  # same seed, same id: the store refuses it
    again.store.close()


def test_memory_store_is_not_shared() -> None:
    store = open_store("memory://")
    assert not store.shared
    backend = Backend(Settings(), store=store)
    assert not isinstance(backend.clock, StoreClock)
