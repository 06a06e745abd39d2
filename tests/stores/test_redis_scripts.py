"""The create's store step and the ledger on every store, and what the Redis scripts add:
ended tasks settled in batches (a read is exact, the ends set stays bounded on an unlimited
balance), a staged record renamed into place for good or removed, never left behind.
Each Redis-only check also runs against a deliberately broken script and is shown to catch it."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.domain.store import DuplicateTask, Held, Hold, TaskStore
from mock_server.stores.redis import RedisStore
from mock_server.stores.redis_scripts import ADD_HELD, LEDGER, SETTLE_EVERY
from tests.stores.test_protocol import record

NOW = 10_000


class Scripted(RedisStore):
    """A Redis store with its create step and ledger step replaced (broken variants)."""

    def __init__(self, url: str, add_held: str = ADD_HELD, ledger: str = LEDGER) -> None:
        super().__init__(url)
        self._add_held = self.redis.register_script(add_held)
        self._ledger = self.redis.register_script(ledger)


def ended(n: int, cost: int = 3) -> tuple[Any, Held]:
    """A record and its step: a hold that ended before NOW (every third one failed)."""
    made = record(n)
    hold = Hold(made.task_id, cost, NOW - 1 - n % 5, n % 3 != 0)
    return made, Held("key", NOW, "freeze", hold, 0)


def create_ended(store: TaskStore, count: int) -> int:
    """``count`` creates on an unlimited balance; the points their ok tasks used."""
    used = 0
    for n in range(count):
        made, held = ended(n)
        assert store.add_held(made, None, held)[0] == 1
        used += held.hold.cost if held.hold.ok else 0
    return used


def test_a_wallet_read_after_unlimited_creates_is_exact(store: TaskStore) -> None:
    used = create_ended(store, 3 * SETTLE_EVERY + 5)
    assert store.ledger("key", NOW) == (True, 0, used)


def ends_left(store: RedisStore) -> int:
    return int(store.redis.zcard(f"{store.prefix}ends:key"))


def test_unlimited_creates_keep_the_ends_bounded(redis_url: str) -> None:
    store = RedisStore(redis_url)
    try:
        create_ended(store, 3 * SETTLE_EVERY + 5)
        assert ends_left(store) <= SETTLE_EVERY
    finally:
        store.close()


def test_the_check_catches_a_create_step_that_never_settles(redis_url: str) -> None:
    never = ADD_HELD.replace(f"seq % {SETTLE_EVERY} == 0", "false")
    assert never != ADD_HELD
    store = Scripted(redis_url, add_held=never)
    try:
        create_ended(store, 3 * SETTLE_EVERY + 5)
        assert ends_left(store) > SETTLE_EVERY
    finally:
        store.close()


def settles_past_one_batch(store: TaskStore, count: int) -> bool:
    """``count`` holds frozen, all ended: does one read settle every one of them?"""
    used = 0
    for n in range(count):
        _, held = ended(n)
        assert store.ledger("key", 0, "freeze", held.hold)[0]
        used += held.hold.cost if held.hold.ok else 0
    return store.ledger("key", NOW) == (True, 0, used)


def test_a_read_settles_more_than_one_batch(store: TaskStore) -> None:
    assert settles_past_one_batch(store, 1234)


def test_the_check_catches_a_settlement_of_one_batch_only(redis_url: str) -> None:
    once = LEDGER.replace("if n < 500 then return end", "do return end")
    assert once != LEDGER
    store = Scripted(redis_url, ledger=once)
    try:
        assert not settles_past_one_batch(store, 1234)
    finally:
        store.close()


def staged_left(store: RedisStore) -> list[Any]:
    return list(store.redis.scan_iter(match=f"{store.prefix}stage:*"))


def steps_leave_nothing_staged(store: RedisStore) -> bool:
    """A create, a failed guard, a refusal and a duplicate: is the stored record there for
    good (no expiry) and nothing staged left?"""
    first, held = record(1), Held("key", NOW, "freeze", Hold("task-0001", 10, NOW + 5), 15)
    assert store.add_held(first, None, held)[0] == 1
    store.kv_set("clock", "v1")
    moved = record(2)
    guarded = held._replace(hold=Hold(moved.task_id, 1))
    assert store.add_held(moved, ("clock", "v0"), guarded)[0] == 0  # the clock moved
    third = record(3)
    assert store.add_held(third, None, held._replace(hold=Hold(third.task_id, 10)))[0] == -2
    with pytest.raises(DuplicateTask):
        store.add_held(first, None, held._replace(limit=0))
    expires = int(store.redis.pttl(store._task(first.task_id)))
    return expires == -1 and not staged_left(store)


def test_a_step_leaves_nothing_staged(redis_url: str) -> None:
    store = RedisStore(redis_url)
    try:
        assert steps_leave_nothing_staged(store)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("redis.call('PERSIST', KEYS[1])", ""),
        ("    redis.call('DEL', stage)\n    return {-2", "    return {-2"),
        ("  redis.call('DEL', stage)\n  return {0, 0, 0}", "  return {0, 0, 0}"),
    ],
    ids=["no-persist", "refusal-keeps-stage", "duplicate-keeps-stage"],
)
def test_the_check_catches_a_step_that_leaves_its_stage(redis_url: str, old: str, new: str) -> None:
    broken = ADD_HELD.replace(old, new)
    assert broken != ADD_HELD
    store = Scripted(redis_url, add_held=broken)
    try:
        assert not steps_leave_nothing_staged(store)
    finally:
        store.close()
