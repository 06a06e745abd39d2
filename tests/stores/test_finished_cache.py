"""The per-process cache of finished records on Redis: a get of a finished task makes no round
trip, and a removal (a reset, an eviction, a remove) is seen at once by the process that made
it and within one lease by every other. Each check also runs against a deliberately broken
cache and is shown to catch it. Wall time is a manual value (no waits)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mock_server.domain.backend import Backend
from mock_server.domain.errors import TaskNotFound
from mock_server.domain.models import Status
from mock_server.domain.shared_cache import LEASE_NS, FinishedCache, Token
from mock_server.settings import Settings
from tests.conftest import seed_request

FROZEN = 1e-9


class Wall:
    """A manual monotonic clock (ns) for the cache's lease."""

    def __init__(self) -> None:
        self.ns = 10**12

    def __call__(self) -> int:
        return self.ns


class NeverRereads(FinishedCache):
    """Broken: trusts the epoch it read first forever (misses removals by others)."""

    def token(self) -> Token:
        if self._read_at is None:
            return super().token()
        return self._epoch, self._local


class IgnoresOwnChanges(FinishedCache):
    """Broken: does not look at this process's own changes (only at the lease)."""

    def token(self) -> Token:
        self._local = self.store.changes
        return super().token()


def _keep_all(backend: Backend) -> None:
    """Broken: the backend keeps every record it shows, ended or not."""
    cache = backend.finished
    assert cache is not None
    original = backend.view

    def view(record: Any) -> Any:
        found = original(record)
        if cache is not None:
            cache.keep(cache.token(), record)
        return found

    backend.view = view  # type: ignore[method-assign]


def backend_on(url: str, wall: Wall, kind: type[FinishedCache] = FinishedCache) -> Backend:
    backend = Backend(Settings(store=url, seed=3, speed=FROZEN))
    assert backend.finished is not None
    backend.finished = kind(backend.finished.store, wall)
    return backend


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def opened() -> Iterator[list[Backend]]:
    made: list[Backend] = []
    yield made
    for backend in made:
        backend.store.close()


def pair(
    url: str, wall: Wall, opened: list[Backend], kind: type[FinishedCache] = FinishedCache
) -> tuple[Backend, Backend]:
    a, b = backend_on(url, wall), backend_on(url, wall, kind)
    opened += [a, b]
    return a, b


def finished_task(a: Backend) -> str:
    task_id = a.create("key", seed_request(), "http://127.0.0.1").task_id
    a.advance(10_000)
    return task_id


def counting_reads(backend: Backend) -> list[str]:
    """Every ``store.read`` the backend makes, by task id."""
    seen: list[str] = []
    read = backend.store.read

    def counted(task_id: str, key: str) -> Any:
        seen.append(task_id)
        return read(task_id, key)

    backend.store.read = counted  # type: ignore[method-assign]
    return seen


def test_a_finished_task_is_read_from_the_store_once(
    redis_url: str, wall: Wall, opened: list[Backend]
) -> None:
    a, b = pair(redis_url, wall, opened)
    task_id = finished_task(a)
    reads = counting_reads(b)
    first, second = b.get("key", task_id), b.get("key", task_id)
    assert first.status is second.status is Status.COMPLETED
    assert second.record == first.record
    assert reads == [task_id]
    with pytest.raises(TaskNotFound):
        b.get("other-key", task_id)  # the owner is checked on a kept record too


def test_no_cache_with_a_retention(redis_url: str) -> None:
    backend = Backend(Settings(store=redis_url, seed=3, speed=FROZEN, retention=60))
    try:
        assert backend.finished is None
    finally:
        backend.store.close()


def test_no_cache_on_memory() -> None:
    assert Backend(Settings(store="memory://")).finished is None


def removal_elsewhere_is_seen(
    url: str,
    wall: Wall,
    opened: list[Backend],
    kind: type[FinishedCache],
    remove: Callable[[Backend, str], None],
) -> bool:
    """b keeps a finished task, a removes it, one lease passes: does b answer 404?"""
    a, b = pair(url, wall, opened, kind)
    task_id = finished_task(a)
    b.get("key", task_id)
    remove(a, task_id)
    wall.ns += LEASE_NS
    try:
        b.get("key", task_id)
    except TaskNotFound:
        return True
    return False


REMOVALS: dict[str, Callable[[Backend, str], None]] = {
    "reset": lambda a, task_id: a.reset(),
    "remove": lambda a, task_id: a.store.remove(task_id),
    "forget": lambda a, task_id: a.forget(a.record("key", task_id)),
}


@pytest.mark.parametrize("how", sorted(REMOVALS))
def test_a_removal_on_another_process_is_seen_within_a_lease(
    redis_url: str, wall: Wall, opened: list[Backend], how: str
) -> None:
    assert removal_elsewhere_is_seen(redis_url, wall, opened, FinishedCache, REMOVALS[how])


@pytest.mark.parametrize("how", sorted(REMOVALS))
def test_the_check_catches_a_cache_that_never_rereads(
    redis_url: str, wall: Wall, opened: list[Backend], how: str
) -> None:
    assert not removal_elsewhere_is_seen(redis_url, wall, opened, NeverRereads, REMOVALS[how])


def test_an_eviction_on_another_process_is_seen_within_a_lease(
    redis_url: str, wall: Wall, opened: list[Backend]
) -> None:
    a = Backend(Settings(store=redis_url, seed=3, speed=FROZEN, max_tasks=1))
    b = backend_on(redis_url, wall)
    opened += [a, b]
    first = finished_task(a)
    b.get("key", first)
    for _ in range(64):  # the cap is checked every 64th create on a shared store
        a.create("key", seed_request(), "http://127.0.0.1")
    assert a.evicted
    wall.ns += LEASE_NS
    with pytest.raises(TaskNotFound):
        b.get("key", first)


def own_removal_is_seen_at_once(url: str, wall: Wall, kind: type[FinishedCache]) -> bool:
    """A backend keeps a finished task and resets: is the task gone at once (no lease)?"""
    b = backend_on(url, wall, kind)
    try:
        task_id = finished_task(b)
        b.get("key", task_id)
        b.reset()
        try:
            b.get("key", task_id)
        except TaskNotFound:
            return True
        return False
    finally:
        b.store.close()


def test_this_process_s_own_removal_is_seen_at_once(redis_url: str, wall: Wall) -> None:
    assert own_removal_is_seen_at_once(redis_url, wall, FinishedCache)


def test_the_check_catches_a_cache_that_ignores_own_changes(redis_url: str, wall: Wall) -> None:
    assert not own_removal_is_seen_at_once(redis_url, wall, IgnoresOwnChanges)


def running_task_moves_on(url: str, wall: Wall, opened: list[Backend], broken: bool) -> bool:
    """A get of a pending task, then an advance: does the next get show it completed?"""
    a, b = pair(url, wall, opened)
    if broken:
        _keep_all(b)
    task_id = a.create("key", seed_request(), "http://127.0.0.1").task_id
    assert b.get("key", task_id).status is Status.PENDING
    a.advance(10_000)
    return b.get("key", task_id).status is Status.COMPLETED


def test_only_finished_records_are_kept(redis_url: str, wall: Wall, opened: list[Backend]) -> None:
    assert running_task_moves_on(redis_url, wall, opened, broken=False)


def test_the_check_catches_a_cache_that_keeps_running_tasks(
    redis_url: str, wall: Wall, opened: list[Backend]
) -> None:
    assert not running_task_moves_on(redis_url, wall, opened, broken=True)


def test_store_changes_move_the_epoch(redis_url: str) -> None:
    backend = Backend(Settings(store=redis_url, seed=3, speed=FROZEN))
    try:
        store = backend.store
        task_id = finished_task(backend)
        record = store.get(task_id)
        assert record is not None
        before = store.incr("epoch", 0)
        store.put(record)
        store.remove(task_id)
        store.clear()
        assert store.incr("epoch", 0) == before + 3
    finally:
        backend.store.close()
