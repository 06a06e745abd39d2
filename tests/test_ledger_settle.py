"""An unlimited ledger settles in batches on the create path, and every reader sees it exact."""

from __future__ import annotations

import pytest

from mock_server.domain import backend as backend_module
from mock_server.domain.backend import SETTLE_EVERY, manual_backend
from mock_server.settings import Settings
from tests.conftest import seed_request

BASE = "http://127.0.0.1:8000"


def _run(creates: int) -> tuple[int, int, int]:
    """``creates`` tasks, each ended before the next: (heap length, points used, frozen)."""
    backend, clock = manual_backend(Settings(seed=3))
    for _ in range(creates):
        backend.create("k", seed_request(), BASE)
        clock.advance(3600)
    heap = len(backend.ledger._heap)
    wallet = backend.account("k")["wallet"]
    return heap, wallet["point_used"], wallet["point_frozen"]


def test_the_heap_stays_bounded_and_the_account_is_exact() -> None:
    creates = 5 * SETTLE_EVERY + 7
    heap, used, frozen = _run(creates)
    assert heap <= SETTLE_EVERY
    one, _ = manual_backend(Settings(seed=3))
    cost = one.create("k", seed_request(), BASE).record.cost
    assert (used, frozen) == (creates * cost, 0)


def test_a_ledger_never_settled_on_create_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_module, "SETTLE_EVERY", 10**9)  # the broken variant
    heap, _, _ = _run(3 * SETTLE_EVERY)
    assert heap > SETTLE_EVERY  # what the bound above rules out


def test_limited_credits_still_settle_every_create() -> None:
    backend, clock = manual_backend(Settings(seed=3, credits_usd=1000.0))
    for _ in range(SETTLE_EVERY // 2):
        backend.create("k", seed_request(), BASE)
        clock.advance(3600)
    assert len(backend.ledger._heap) <= 1
