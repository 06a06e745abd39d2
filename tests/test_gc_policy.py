"""``serve``'s GC policy: freeze after start-up and after each full collection, leak nothing.

Each check runs in a fresh interpreter: freezing (or collecting) the test runner's own heap
would mix other tests' garbage into these results.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import gc, weakref
from mock_server import gc_policy

class Node:
    def __init__(self):
        self.other = None
"""


def check(body: str) -> None:
    """Run ``body`` after :data:`PRELUDE` in a fresh interpreter; it must exit 0."""
    code = PRELUDE + textwrap.dedent(body) + "\nprint('ok')\n"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")


def test_install_freezes_start_up_and_is_idempotent() -> None:
    check("""
        gc_policy.install()
        assert gc_policy.installed()
        assert gc.get_freeze_count() > 0
        gc_policy.install()
        assert gc.callbacks.count(gc_policy._freeze_after_full) == 1
    """)


def test_a_full_collection_freezes_its_survivors_and_a_young_one_does_not() -> None:
    check("""
        gc_policy.install()
        kept = [Node() for _ in range(1000)]
        before = gc.get_freeze_count()
        gc.collect(1)
        assert gc.get_freeze_count() == before
        gc.collect()
        assert gc.get_freeze_count() >= before + len(kept)
    """)


def test_cycles_made_after_a_freeze_are_still_collected() -> None:
    check("""
        gc_policy.install()
        a, b = Node(), Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        del a, b
        gc.collect()
        assert ref() is None
    """)


def test_frozen_objects_are_still_freed_by_reference_counting() -> None:
    check("""
        gc_policy.install()
        node = Node()
        ref = weakref.ref(node)
        gc.collect()  # now frozen
        assert gc.get_freeze_count() > 0
        del node
        assert ref() is None
    """)


def test_uninstall_restores_the_defaults() -> None:
    check("""
        before = gc.get_threshold()
        gc_policy.install()
        assert gc.get_threshold() == (*before[:2], gc_policy.OLDEST_THRESHOLD)
        gc_policy.install()
        gc_policy.uninstall()
        assert not gc_policy.installed()
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == before
    """)


FULL_AFTER_MIDDLE = """
    INSTALL
    fulls = []
    gc.callbacks.append(lambda phase, info: phase == "stop" and fulls.append(info["generation"]))
    kept = []
    for _ in range(12):  # twelve middle collections, each after new long-lived objects
        kept.extend(Node() for _ in range(2000))
        gc.collect(1)
        gc.collect(0)  # an automatic young collection: CPython decides on an older one here
    full = fulls.count(2)
"""


def test_full_collections_follow_middle_ones_and_stay_small() -> None:
    """Under the policy a full collection comes within a few middle ones (CPython's default
    waits for ten), and each walks only what is new since the last: many, small."""
    check(
        FULL_AFTER_MIDDLE.replace("INSTALL", "gc_policy.install()")
        + """
    assert full >= 3, fulls
    assert gc.get_freeze_count() >= len(kept) - 2000
    """
    )


def test_the_full_collection_count_tells_the_default_apart() -> None:
    """The same count without the policy (threshold 10): the check above would fail."""
    with pytest.raises(AssertionError):
        check(FULL_AFTER_MIDDLE.replace("INSTALL", "pass") + "    assert full >= 3, fulls\n")


def test_a_cycle_alive_at_a_freeze_is_the_known_cost() -> None:
    """What the policy gives up, shown: such a cycle waits for ``uninstall`` (or exit)."""
    check("""
        gc_policy.install()
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
    """)


def test_the_checks_fail_on_a_broken_policy() -> None:
    """A policy that freezes nothing is caught by the survivor check."""
    with pytest.raises(AssertionError):
        check("""
            gc_policy.install()
            gc.callbacks.remove(gc_policy._freeze_after_full)
            kept = [Node() for _ in range(1000)]
            before = gc.get_freeze_count()
            gc.collect()
            assert gc.get_freeze_count() >= before + len(kept)
        """)


def test_serve_installs_the_policy_before_serving() -> None:
    check("""
        import uvicorn
        from mock_server import server
        from mock_server.settings import Settings
        seen = []
        uvicorn.Server.run = lambda self: seen.append(gc_policy.installed())
        server.serve(object(), Settings())
        assert seen == [True]
    """)
