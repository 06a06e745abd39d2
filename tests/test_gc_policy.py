"""``serve``'s GC policy: freeze after start-up and after each full collection, leak nothing."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from mock_server import gc_policy


class Node:
    """A weak-referenceable object that can sit in a cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def policy() -> Iterator[None]:
    gc_policy.install()
    try:
        yield
    finally:
        gc_policy.uninstall()


def cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_install_freezes_start_up_and_is_idempotent(policy: None) -> None:
    assert gc_policy.installed()
    assert gc.get_freeze_count() > 0
    gc_policy.install()
    assert gc.callbacks.count(gc_policy._freeze_after_full) == 1


def test_a_full_collection_freezes_its_survivors(policy: None) -> None:
    kept = [Node() for _ in range(1000)]
    before = gc.get_freeze_count()
    gc.collect(1)  # a young collection freezes nothing
    assert gc.get_freeze_count() == before
    gc.collect()
    assert gc.get_freeze_count() >= before + len(kept)


def test_cycles_made_after_a_freeze_are_still_collected(policy: None) -> None:
    ref = cycle()
    assert ref() is not None
    gc.collect()
    assert ref() is None


def test_frozen_objects_are_still_freed_by_reference_counting(policy: None) -> None:
    node = Node()
    ref = weakref.ref(node)
    gc.collect()  # now frozen
    del node
    assert ref() is None


def test_uninstall_restores_the_defaults() -> None:
    gc_policy.install()
    gc_policy.uninstall()
    assert not gc_policy.installed()
    assert gc.get_freeze_count() == 0


def test_a_cycle_alive_at_a_freeze_is_the_known_cost(policy: None) -> None:
    """What the policy gives up, shown: such a cycle waits for ``uninstall`` (or exit)."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    ref = weakref.ref(a)
    gc.collect()  # frozen while alive
    del a, b
    gc.collect()
    assert ref() is not None
    gc_policy.uninstall()
    gc.collect()
    assert ref() is None


def test_serve_installs_the_policy_before_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from mock_server import server
    from mock_server.settings import Settings

    seen: list[bool] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: seen.append(gc_policy.installed()))
    try:
        server.serve(object(), Settings())
    finally:
        gc_policy.uninstall()
    assert seen == [True]
