"""The hardening bounds hold on shared stores too: ``--retention`` and ``--max-tasks`` remove
tasks from the store (records read back from a shared store are fresh objects each time)."""

from __future__ import annotations

import pytest

from mock_server.domain.backend import Backend
from mock_server.domain.models import TaskRecord
from mock_server.settings import Settings
from tests.conftest import seed_request


def test_the_task_cap_evicts_from_a_shared_store(shared_url: str) -> None:
    backend = Backend(Settings(store=shared_url, speed=1e-9, max_tasks=10))
    try:
        for _ in range(140):
            backend.create("k", seed_request(), "x")
        assert len(backend.store) <= 10 + 64  # checked every 64th create on a shared store
        assert backend.evicted == 140 - len(backend.store)
    finally:
        backend.store.close()


def test_retention_removes_from_a_shared_store(shared_url: str) -> None:
    backend = Backend(Settings(store=shared_url, speed=1e-9, retention=60))
    try:
        for _ in range(3):
            backend.create("k", seed_request(), "x")
        backend.advance(61)
        backend.create("k", seed_request(), "x")
        assert len(backend.store) == 1
        assert backend.expired == 3
    finally:
        backend.store.close()


def test_an_identity_only_forget_fails_the_cap_check(
    shared_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broken input: ``forget`` removing only the very object stored (memory's rule), as
    before this fix, never removes anything from a shared store."""

    def by_identity(self: Backend, record: TaskRecord) -> None:
        if self.store.get(record.task_id) is record:
            self.store.remove(record.task_id)

    monkeypatch.setattr(Backend, "forget", by_identity)
    with pytest.raises(AssertionError):
        test_the_task_cap_evicts_from_a_shared_store(shared_url)
