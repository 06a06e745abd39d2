"""Creates and gets on Redis sent as one pipeline per event-loop turn
(``stores/redis_batch.py``): the creates (or gets) of one turn make one round trip, each gets
its own reply or its own error, a lost script is loaded again, a clock moved meanwhile shifts
the task as in the one-by-one path, and a batched get answers as a get does.
Each check also runs against a deliberately broken batcher or path and is shown to catch it."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from hiredis import pack_command

from mock_server.domain.backend import Backend
from mock_server.domain.errors import TaskNotFound
from mock_server.domain.models import Status, TaskRecord
from mock_server.domain.prepared import Prepared, prepare
from mock_server.domain.shared import StoreClock
from mock_server.domain.store import DuplicateTask, Held, Hold
from mock_server.ports import free_port
from mock_server.settings import Settings
from mock_server.stores import outage
from mock_server.stores.redis import RedisStore
from mock_server.stores.redis_batch import Batcher
from tests.conftest import seed_request

FROZEN = 1e-9
BASE = "http://127.0.0.1"


@pytest.fixture
def backend(redis_url: str) -> Iterator[Backend]:
    made = Backend(Settings(store=redis_url, seed=3, speed=FROZEN))
    yield made
    made.store.close()


def ready(backend: Backend) -> Prepared:
    body = seed_request()
    return prepare(backend.packs.lookup(body["model"], body["task_type"]), body, backend.prices)


def redis_of(backend: Backend) -> RedisStore:
    assert isinstance(backend.store, RedisStore)
    return backend.store


class OneByOne(Batcher):
    """Broken: sends each command on its own (no batching)."""

    def call(self, packed: bytes, replies: int = 1) -> asyncio.Future[Any]:
        future = super().call(packed, replies)
        self.flush()
        return future


class AllOrNothing(Batcher):
    """Broken: one failed command fails the whole batch."""

    def __init__(self, batcher: Batcher) -> None:
        def pipe(packed: list[bytes], expected: int) -> list[Any]:
            replies = batcher.pipe(packed, expected)
            failed = [r for r in replies if isinstance(r, BaseException)]
            return [failed[0]] * len(replies) if failed else replies

        super().__init__(pipe)


def creates_in_one_turn(backend: Backend, count: int) -> int:
    """Round trips ``count`` concurrent creates took (each also read back)."""
    store = redis_of(backend)
    prepared = ready(backend)

    async def all_at_once() -> list[str]:
        views = await asyncio.gather(
            *(backend.create_prepared_async("key", prepared, BASE) for _ in range(count))
        )
        return [view.task_id for view in views]

    before = store.batcher.flushes
    ids = asyncio.run(all_at_once())
    assert len(set(ids)) == count
    assert all(backend.get("key", task_id).task_id == task_id for task_id in ids)
    return store.batcher.flushes - before


def test_the_creates_of_one_turn_make_one_round_trip(backend: Backend) -> None:
    assert creates_in_one_turn(backend, 8) == 1
    assert len(backend.store) == 8


def test_the_check_catches_a_batcher_that_sends_one_by_one(backend: Backend) -> None:
    store = redis_of(backend)
    store.batcher = OneByOne(store.batcher.pipe)
    assert creates_in_one_turn(backend, 8) == 8


def held_for(record: TaskRecord, now: int) -> Held:
    return Held(record.owner, now, "freeze", Hold(record.task_id, record.cost, -1, True), 0)


def a_failed_command_fails_alone(backend: Backend) -> bool:
    """One batch: a command the server refuses (INCR of the clock's JSON text), a create of
    an id already stored and two new creates. Only the first two fail, each its own way?"""
    store = redis_of(backend)
    taken = backend.create("key", seed_request(), BASE).record
    now = backend.clock.now()
    fresh = [dataclasses.replace(taken, task_id=f"new-{n}") for n in range(2)]
    refused = pack_command(("INCR", f"{store.prefix}kv:clock"))  # type: ignore[arg-type]

    async def refuse() -> Any:
        return await store.batcher.call(refused)

    async def batch() -> list[Any]:
        calls = [store.add_held_batched(r, None, held_for(r, now)) for r in [taken, *fresh]]
        return await asyncio.gather(refuse(), *calls, return_exceptions=True)

    before = store.batcher.flushes
    bad, duplicate, *others = asyncio.run(batch())
    assert store.batcher.flushes == before + 1
    return (
        isinstance(bad, redis.ResponseError)
        and isinstance(duplicate, DuplicateTask)
        and all(isinstance(o, tuple) and o[0] == 1 for o in others)
    )


def test_a_failed_command_fails_alone(backend: Backend) -> None:
    assert a_failed_command_fails_alone(backend)


def test_the_check_catches_a_batch_that_fails_together(backend: Backend) -> None:
    store = redis_of(backend)
    store.batcher = AllOrNothing(store.batcher)
    assert not a_failed_command_fails_alone(backend)


def test_an_unreachable_redis_fails_each_create_as_an_outage() -> None:
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    record = TaskRecord("t", "key", "m", "t", "{}", "{}", "16:9", 1, False, BASE, 0, 0, 1)

    async def batch() -> list[Any]:
        calls = [store.add_held_batched(record, None, held_for(record, 0)) for _ in range(3)]
        return await asyncio.gather(*calls, return_exceptions=True)

    try:
        found = asyncio.run(batch())
    finally:
        store.close()
    assert len(found) == 3
    assert all(isinstance(f, redis.ConnectionError) and outage(f) for f in found)


class NoReload(RedisStore):
    """Broken: does not load a script the server lost."""

    async def add_held_batched(self, record: TaskRecord, guard: Any, held: Held) -> Any:
        keys, args = self._add_held_call(record, guard, held)
        packed = self._staging(record, keys) + self._add_held_command(keys, args)
        _, reply = await self.batcher.call(packed, 2)
        if isinstance(reply, BaseException):
            raise reply
        return reply


def creates_after_a_script_flush(backend: Backend) -> bool:
    redis_of(backend).redis.script_flush()
    try:
        creates_in_one_turn(backend, 2)
    except redis.exceptions.NoScriptError:
        return False
    return True


def test_a_lost_script_is_loaded_again(backend: Backend) -> None:
    assert creates_after_a_script_flush(backend)


def test_the_check_catches_a_store_that_does_not_reload(redis_url: str) -> None:
    store = NoReload(redis_url)
    broken = Backend(Settings(store=redis_url, seed=3, speed=FROZEN), store=store)
    try:
        assert not creates_after_a_script_flush(broken)
    finally:
        store.close()


def shifted_by_an_advance(backend: Backend, other: Backend, broken: bool) -> bool:
    """The clock moves between timing a create and its store step: is the task stored, with
    times shifted by the advance?"""
    plan = backend._new_record

    def then_advance(*args: Any) -> tuple[TaskRecord, int]:
        found = plan(*args)
        other.advance(3600)
        return found

    backend._new_record = then_advance  # type: ignore[method-assign,assignment]
    if broken:  # re-reads the clock but keeps the old times

        def resync_only(record: TaskRecord) -> None:
            assert isinstance(backend.clock, StoreClock)
            backend.clock.resync()

        backend._shifted = resync_only  # type: ignore[method-assign]
    before = backend.clock.now()
    view = asyncio.run(backend.create_prepared_async("key", ready(backend), BASE))
    stored = backend.store.get(view.task_id)
    assert stored is not None
    assert stored.created_at == view.record.created_at
    return view.record.created_at - before >= 3600 * 10**9


def test_a_clock_moved_meanwhile_shifts_the_task(backend: Backend, redis_url: str) -> None:
    other = Backend(Settings(store=redis_url, seed=4, speed=FROZEN))
    try:
        assert shifted_by_an_advance(backend, other, broken=False)
    finally:
        other.store.close()


def test_the_check_catches_a_path_that_does_not_shift(backend: Backend, redis_url: str) -> None:
    other = Backend(Settings(store=redis_url, seed=4, speed=FROZEN))
    try:
        assert not shifted_by_an_advance(backend, other, broken=True)
    finally:
        other.store.close()


class OneFlag(Batcher):
    """Broken: one "flush due" flag for every loop (a loop that ended first blocks the rest)."""

    def call(self, packed: bytes, replies: int = 1) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((packed, replies, future))
        if not self._due:
            self._due.add(loop)
            loop.call_soon(self.flush)
        return future


def answered_after_a_loop_ended(batcher: Batcher) -> bool:
    """A loop ends with a flush due (its request gone); is a new loop's command answered?"""
    ping = pack_command(("PING",))

    ended = asyncio.new_event_loop()

    def leave() -> None:
        batcher.call(ping)
        ended.stop()  # the loop ends before the turn its flush is due in

    ended.call_soon(leave)
    ended.run_forever()
    ended.close()

    async def ask() -> bool:
        future = batcher.call(ping)
        for _ in range(3):
            await asyncio.sleep(0)
        return future.done() and future.result() == b"PONG"

    return asyncio.run(ask())


def test_a_loop_that_ended_does_not_block_the_next(backend: Backend) -> None:
    assert answered_after_a_loop_ended(redis_of(backend).batcher)


def test_the_check_catches_one_flag_for_every_loop(backend: Backend) -> None:
    assert not answered_after_a_loop_ended(OneFlag(redis_of(backend).batcher.pipe))


def gets_in_one_turn(backend: Backend, count: int) -> int:
    """Round trips ``count`` concurrent gets of pending tasks took."""
    store = redis_of(backend)
    ids = [backend.create("key", seed_request(), BASE).task_id for _ in range(count)]

    async def all_at_once() -> list[Any]:
        return await asyncio.gather(*(backend.get_async("key", task_id) for task_id in ids))

    before = store.batcher.flushes
    views = asyncio.run(all_at_once())
    assert [view.task_id for view in views] == ids
    assert all(view.status is Status.PENDING for view in views)
    return store.batcher.flushes - before


def test_the_gets_of_one_turn_make_one_round_trip(backend: Backend) -> None:
    assert gets_in_one_turn(backend, 8) == 1


def test_the_check_catches_gets_sent_one_by_one(backend: Backend) -> None:
    store = redis_of(backend)
    store.batcher = OneByOne(store.batcher.pipe)
    assert gets_in_one_turn(backend, 8) == 8


def test_a_batched_get_answers_like_a_get(backend: Backend) -> None:
    store = redis_of(backend)
    task_id = backend.create("key", seed_request(), BASE).task_id
    pending = asyncio.run(backend.get_async("key", task_id))
    assert pending.record == backend.get("key", task_id).record
    for owner, wanted in (("other-key", task_id), ("key", "no-such-task")):
        with pytest.raises(TaskNotFound):
            asyncio.run(backend.get_async(owner, wanted))
    backend.advance(10_000)
    done = asyncio.run(backend.get_async("key", task_id))
    assert done.status is Status.COMPLETED
    before = store.batcher.flushes
    again = asyncio.run(backend.get_async("key", task_id))  # kept: no round trip
    assert again.record is done.record
    assert store.batcher.flushes == before
