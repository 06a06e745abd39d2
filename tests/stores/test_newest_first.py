"""Every store reads newest first in batches (the dashboard's task page; ui's addition)."""

from __future__ import annotations

from itertools import islice

import pytest

from mock_server.domain.store import TaskStore
from mock_server.web.ui.state import newest_first
from tests.stores.test_protocol import record


@pytest.mark.parametrize("count", [0, 3, 250])
def test_newest_first_is_created_order_reversed(store: TaskStore, count: int) -> None:
    records = [record(i) for i in range(count)]
    for r in records:
        store.add(r)
    if count > 2:
        store.remove(records[1].task_id)
        del records[1]
    assert callable(getattr(store, "__reversed__", None))  # no fallback copy on any store
    assert [r.task_id for r in newest_first(store)] == [r.task_id for r in reversed(records)]
    assert [r.task_id for r in islice(newest_first(store), 5)] == [
        r.task_id for r in records[::-1][:5]
    ]


def test_the_check_catches_an_oldest_first_reader(store: TaskStore) -> None:
    for i in range(5):
        store.add(record(i))
    oldest = [r.task_id for r in store]
    assert [r.task_id for r in newest_first(store)] != oldest
