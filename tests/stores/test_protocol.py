"""The one store protocol, checked on every store: memory, a SQLite file, a real Redis."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mock_server.domain.models import TaskRecord, WebhookTarget
from mock_server.domain.store import DuplicateTask, Held, Hold, TaskStore
from mock_server.stores import open_store
from mock_server.stores.memory import MemoryStore


def record(n: int, hook: bool = False) -> TaskRecord:
    return TaskRecord(
        task_id=f"task-{n:04d}",
        owner="key",
        model="kling",
        task_type="omni_video_generation",
        input_json='{"prompt":"p"}',
        config_json="{}",
        aspect_ratio="16:9",
        cost=10,
        private_pool=False,
        base_url="http://127.0.0.1",
        created_at=1_000 + n,
        start_at=2_000 + n,
        run_ns=3_000,
        webhook=WebhookTarget("http://127.0.0.1:9/h", "") if hook else None,
    )


def test_add_get_put_remove(store: TaskStore) -> None:
    first = record(1)
    store.add(first)
    assert store.get("task-0001") == first
    assert store.get("nope") is None
    with pytest.raises(DuplicateTask):
        store.add(record(1))
    first.cancelled_at = 5_000
    store.put(first)
    got = store.get("task-0001")
    assert got is not None
    assert got.cancelled_at == 5_000
    assert len(store) == 1
    store.remove("task-0001")
    store.remove("task-0001")  # absent: no error
    assert store.get("task-0001") is None
    assert len(store) == 0


def test_scan_pages_in_created_order_and_survives_removals(store: TaskStore) -> None:
    for n in range(10):
        store.add(record(n, hook=n % 3 == 0))
    page, cursor = store.scan(None, 4)
    assert [r.task_id for r in page] == [f"task-{n:04d}" for n in range(4)]
    store.remove("task-0004")  # the next page's first record goes away
    store.remove("task-0002")  # a seen one too
    page, cursor = store.scan(cursor, 4)
    assert [r.task_id for r in page] == ["task-0005", "task-0006", "task-0007", "task-0008"]
    page, cursor = store.scan(cursor, 4)
    assert [r.task_id for r in page] == ["task-0009"]
    assert store.scan(cursor, 4)[0] == []
    store.add(record(10))
    assert [r.task_id for r in store.scan(cursor, 4)[0]] == ["task-0010"]
    assert [r.task_id for r in store.scan(None, 100, hooks=True)[0]] == [
        "task-0000",
        "task-0003",
        "task-0006",
        "task-0009",
    ]
    assert [r.task_id for r in store][:3] == ["task-0000", "task-0001", "task-0003"]


def test_clear_forgets_all_but_counters(store: TaskStore) -> None:
    store.add(record(1))
    store.kv_set("k", "v")
    assert store.claim("c", "me")
    store.append("log", ["a"], 10)
    assert store.incr("generation") == 1
    store.clear()
    assert len(store) == 0
    assert store.get("task-0001") is None
    assert store.kv_get("k") is None
    assert store.claim("c", "me")
    assert store.tail("log", 10) == []
    assert store.log_count("log") == 0
    assert store.incr("generation") == 2  # counters survive: ids never repeat


def test_claim_is_won_once(store: TaskStore) -> None:
    assert store.claim("hook:t:pending", "a")
    assert not store.claim("hook:t:pending", "b")
    assert not store.claim("hook:t:pending", "a")
    assert store.claim("hook:t:completed", "b")


def test_kv_counters_and_logs(store: TaskStore) -> None:
    assert store.kv_get("clock") is None
    store.kv_set("clock", "1")
    store.kv_set("clock", "2")
    assert store.kv_get("clock") == "2"
    assert store.incr("n", 5) == 5
    assert store.incr("n") == 6
    store.append("j", ["a", "b"], 3)
    store.append("j", ["c", "d"], 3)
    assert store.tail("j", 10) == ["b", "c", "d"]
    assert store.tail("j", 2) == ["c", "d"]
    assert store.tail("j", 0) == []
    assert store.log_count("j") == 4


def test_memory_store_trims_its_dead_front_and_keeps_cursors() -> None:
    store = MemoryStore()
    for n in range(10_000):
        store.add(record(n))
    _, cursor = store.scan(None, 7_000)  # a reader part-way through
    for n in range(6_000):  # the oldest go first (retention, the cap)
        store.remove(f"task-{n:04d}")
    assert len(store._ids) < 10_000  # the dead front was cut off
    page, _ = store.scan(cursor, 10)
    assert [r.task_id for r in page] == [f"task-{n:04d}" for n in range(7_000, 7_010)]
    first, _ = store.scan(None, 1)
    assert first[0].task_id == "task-6000"


def test_memory_store_compacts_holes_behind_a_live_head() -> None:
    store = MemoryStore()
    for n in range(12_000):
        store.add(record(n))
    for n in range(1, 12_000, 2):  # every odd one: the oldest stays, so the head cannot move
        store.remove(f"task-{n:04d}")
    assert len(store._ids) < 12_000  # compacted by a full pass
    page, _ = store.scan(None, 3)
    assert [r.task_id for r in page] == ["task-0000", "task-0002", "task-0004"]
    assert len(store) == 6_000


def test_sqlite_survives_reopening(sqlite_url: str) -> None:
    first = open_store(sqlite_url)
    first.add(record(1))
    first.incr("generation")
    first.close()
    again = open_store(sqlite_url)
    assert again.get("task-0001") == record(1)
    assert again.incr("generation") == 2
    again.close()


@pytest.mark.parametrize(
    "url", ["sqlite://relative.db", "sqlite:///", "postgres://x", "mem://", "file:///x"]
)
def test_bad_urls_are_refused_by_name(url: str) -> None:
    with pytest.raises(ValueError, match="store"):
        open_store(url)


def test_relative_sqlite_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///sub/state.db")
    store.close()
    assert (tmp_path / "sub" / "state.db").exists()


def test_a_broken_store_fails_the_protocol_checks() -> None:
    """The scan check bites on a store whose cursor restarts after a removal."""

    class Forgetful(MemoryStore):
        def scan(
            self, after: str | None = None, limit: int = 1000, *, hooks: bool = False
        ) -> tuple[list[TaskRecord], str]:
            found, _ = super().scan(None, limit, hooks=hooks)
            return found, ""

    with pytest.raises(AssertionError):
        test_scan_pages_in_created_order_and_survives_removals(Forgetful())


def test_records_compare_by_value() -> None:
    assert record(1) == dataclasses.replace(record(1))


def test_an_unreachable_redis_is_a_clear_error() -> None:
    from mock_server.ports import free_port

    with pytest.raises(ValueError, match="cannot reach Redis"):
        open_store(f"redis://127.0.0.1:{free_port()}/0")


def test_an_unopenable_sqlite_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(ValueError, match="cannot open the SQLite file"):
        open_store(f"sqlite:///{tmp_path / 'dir.db'}")


def test_redis_reloads_a_flushed_script_and_reopens_a_killed_connection(redis_url: str) -> None:
    from mock_server.stores.redis import RedisStore

    store = open_store(redis_url)
    assert isinstance(store, RedisStore)
    store.add(record(1))
    store.redis.script_flush()  # a restarted or failed-over server has no scripts
    store.add(record(2))
    store.redis.client_kill_filter(_type="normal", skipme=True)  # drops the request lane
    assert store.get("task-0002") == record(2)
    assert store.read("task-0001", "nothing") == (record(1), None)
    store.close()


def test_ledger_freezes_settles_and_releases(store: TaskStore) -> None:
    assert store.ledger("k", 0) == (True, 0, 0)
    assert store.ledger("k", 0, "freeze", Hold("ok", 10, 100, True), 25) == (True, 10, 0)
    assert store.ledger("k", 0, "freeze", Hold("bad", 10, 50, False), 25) == (True, 20, 0)
    assert store.ledger("k", 0, "freeze", Hold("late", 10), 25) == (False, 20, 0)  # over 25
    assert store.ledger("k", 0, "freeze", Hold("ok", 10, 100, True), 25) == (True, 20, 0)  # held
    assert store.ledger("k", 50) == (True, 10, 0)  # "bad" ended failed: released
    assert store.ledger("k", 60, "freeze", Hold("queued", 10), 25) == (True, 20, 0)
    assert store.ledger("k", 60, "track", Hold("ok", 10, 70, True)) == (True, 20, 0)  # forced
    assert store.ledger("k", 70) == (True, 10, 10)  # "ok" completed at 70: consumed
    assert store.ledger("k", 70, "release", Hold("queued", 10)) == (True, 0, 10)  # cancelled
    assert store.ledger("k", 70, "release", Hold("queued", 10)) == (True, 0, 10)  # once only
    assert store.ledger("k", 70, "use", Hold("prepaid", 10), 25) == (True, 0, 20)
    assert store.ledger("k", 70, "use", Hold("more", 10), 25) == (False, 0, 20)
    assert store.ledger("other", 70) == (True, 0, 0)
    late = 2**70  # virtual ends up to 9000 AD exceed 64 bits
    assert store.ledger("o", 0, "freeze", Hold("far", 5, late, True)) == (True, 5, 0)
    assert store.ledger("o", late - 1) == (True, 5, 0)
    assert store.ledger("o", late) == (True, 0, 5)
    store.clear()
    assert store.ledger("k", 70) == (True, 0, 0)


def test_kv_swap_is_a_compare_and_set(store: TaskStore) -> None:
    assert not store.kv_swap("rules", "x", "y")  # absent, not "x"
    assert store.kv_swap("rules", None, "a")
    assert not store.kv_swap("rules", None, "b")  # present now
    assert not store.kv_swap("rules", "b", "c")
    assert store.kv_swap("rules", "a", "c")
    assert store.kv_get("rules") == "c"


def test_a_ledger_that_forgets_the_limit_fails_the_ledger_check() -> None:
    class Unbounded(MemoryStore):
        def ledger(
            self, account: str, now: int, op: str = "", hold: Hold | None = None, limit: int = 0
        ) -> tuple[bool, int, int]:
            return super().ledger(account, now, op, hold, 0)

    with pytest.raises(AssertionError):
        test_ledger_freezes_settles_and_releases(Unbounded())


def test_add_held_stores_and_freezes_in_one_step_or_neither(store: TaskStore) -> None:
    check_add_held(store)


def check_add_held(store: TaskStore) -> None:
    first = record(1)
    held = Held("key", 0, "freeze", Hold(first.task_id, 10, 99_000), limit=25)
    assert store.add_held(first, None, held) == (1, 10, 0)
    assert store.get(first.task_id) == first
    store.kv_set("clock", "v1")
    moved = record(2)
    guard_failed = store.add_held(
        moved, ("clock", "v0"), held._replace(hold=Hold(moved.task_id, 10))
    )
    assert guard_failed == (0, 10, 0)  # the clock moved: nothing stored, nothing frozen
    assert store.get(moved.task_id) is None
    assert (
        store.add_held(moved, ("clock", "v1"), held._replace(hold=Hold(moved.task_id, 10)))[0] == 1
    )
    third = record(3)
    refused = store.add_held(third, None, held._replace(hold=Hold(third.task_id, 10)))
    assert refused == (-2, 20, 0)  # 20 + 10 > 25
    assert store.get(third.task_id) is None
    with pytest.raises(DuplicateTask):
        store.add_held(record(1), None, held._replace(limit=0))
    assert store.ledger("key", 0)[1:] == (20, 0)  # the duplicate froze nothing


def test_the_add_held_check_catches_a_store_that_adds_what_the_ledger_refused() -> None:
    class Careless(MemoryStore):
        def add_held(
            self, record: TaskRecord, guard: tuple[str, str] | None, held: Held
        ) -> tuple[int, int, int]:
            done, frozen, used = self.ledger(held.account, held.now, held.op, held.hold, held.limit)
            stored = self.add(record, guard)  # stored even when the ledger refused
            return (1 if done and stored else -2 if not done else 0), frozen, used

    with pytest.raises(AssertionError):
        check_add_held(Careless())
