"""``--credits-usd`` and ``--max-concurrent``: frozen, consumed, released; slots and the line."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

from mock_server.domain.backend import Backend
from mock_server.domain.clock import SystemClock
from mock_server.domain.errors import InsufficientCredits
from mock_server.domain.models import TaskRecord
from mock_server.domain.observers import BackendObserver
from mock_server.domain.platform import UNLIMITED_POINTS
from mock_server.settings import Settings
from tests.scenarios.helpers import KEY, body, create, make, open_client

pytestmark = pytest.mark.anyio

#: The seed's prices: 720p without audio $0.15/s, with audio $0.20/s; 10^7 points per USD.
THREE_S_720P = 4_500_000
FIVE_S_720P_AUDIO = 10_000_000
TEN_USD = 100_000_000


def points(wallet: dict[str, int]) -> dict[str, int]:
    """The point fields of a wallet (it also has mj_remain and llm_remain)."""
    return {k: v for k, v in wallet.items() if k.startswith("point_")}


def wallet(backend: Backend, owner: str = "k") -> tuple[int, int, int]:
    w = backend.account(owner)["wallet"]
    return w["point_remain"], w["point_frozen"], w["point_used"]


def test_points_are_frozen_consumed_and_released_by_the_seed_prices() -> None:
    backend, clock = make(credits_usd=10)
    done = create(backend)
    failed = create(backend, scenario="fail-after:40")
    cancelled = create(backend, scenario="pending:60", duration=5, enable_audio=True)
    frozen = 2 * THREE_S_720P + FIVE_S_720P_AUDIO
    assert wallet(backend) == (TEN_USD - frozen, frozen, 0)
    backend.cancel("k", cancelled)
    assert wallet(backend) == (TEN_USD - 2 * THREE_S_720P, 2 * THREE_S_720P, 0)
    clock.advance(41)
    assert backend.get("k", failed).status.value == "failed"
    assert wallet(backend) == (TEN_USD - THREE_S_720P, THREE_S_720P, 0)
    clock.advance(100)
    assert backend.get("k", done).status.value == "completed"
    assert wallet(backend) == (TEN_USD - THREE_S_720P, 0, THREE_S_720P)
    assert backend.account("k")["equivalent_in_usd"] == 9.55
    assert wallet(backend, "other") == (TEN_USD, 0, 0)


def test_a_create_that_does_not_fit_is_refused_with_402() -> None:
    backend, clock = make(credits_usd=1)  # 10^7 points: two 3 s tasks fit, a third does not
    create(backend)
    create(backend)
    with pytest.raises(InsufficientCredits) as caught:
        create(backend)
    assert caught.value.status == 402
    assert "1000000 points remain" in caught.value.message
    assert len(backend.store) == 2
    clock.advance(200)  # both complete: 9 000 000 used, 1 000 000 left
    with pytest.raises(InsufficientCredits):
        create(backend)


def test_failed_tasks_give_their_points_back() -> None:
    backend, clock = make(credits_usd=1)
    create(backend, scenario="fail:invalid_input")
    create(backend)
    clock.advance(5)
    create(backend)  # fits again: the failed task released its points
    assert wallet(backend)[1] == 2 * THREE_S_720P


def test_unlimited_account_still_reports_frozen_and_used() -> None:
    backend, clock = make()
    create(backend)
    assert backend.account("k")["unlimited"] is True
    assert wallet(backend) == (UNLIMITED_POINTS, THREE_S_720P, 0)
    clock.advance(200)
    assert wallet(backend) == (UNLIMITED_POINTS, 0, THREE_S_720P)


async def test_account_info_and_402_over_http() -> None:
    backend, _ = make(credits_usd=0.5)
    async with open_client(backend) as http:
        first = await http.post("/api/v1/task", json=body(), headers=KEY)
        second = await http.post("/api/v1/task", json=body(), headers=KEY)
        info = (await http.get("/account/info", headers=KEY)).json()["data"]
    assert first.status_code == 200
    assert second.status_code == 402
    assert second.json() == {"code": 402, "data": None, "message": second.json()["message"]}
    assert points(info["wallet"]) == {
        "point_remain": 5_000_000 - THREE_S_720P,
        "point_frozen": THREE_S_720P,
        "point_used": 0,
    }


class Changes(BackendObserver):
    def __init__(self) -> None:
        self.changed: list[tuple[str, int | None]] = []

    def task_changed(self, record: TaskRecord) -> None:
        self.changed.append((record.task_id, record.start_at))


async def test_max_concurrent_one_keeps_the_second_pending_and_cancellable() -> None:
    backend, clock = make(max_concurrent=1)
    async with open_client(backend) as http:

        async def status(task_id: str) -> Any:
            answer = await http.get(f"/api/v1/task/{task_id}", headers=KEY)
            return answer.json()["data"]["status"]

        first = (await http.post("/api/v1/task", json=body(), headers=KEY)).json()["data"]
        second = (await http.post("/api/v1/task", json=body(), headers=KEY)).json()["data"]
        third = (await http.post("/api/v1/task", json=body(), headers=KEY)).json()["data"]
        clock.advance(5)
        assert [await status(t["task_id"]) for t in (first, second, third)] == [
            "processing",
            "pending",
            "pending",
        ]
        cancel = await http.delete(f"/api/v1/task/{second['task_id']}", headers=KEY)
        assert cancel.status_code == 200
        assert await status(second["task_id"]) == "failed"
        clock.advance(95)  # the first ends after ~80 s: the third takes the slot
        assert await status(first["task_id"]) == "completed"
        assert await status(third["task_id"]) == "processing"


def test_a_queued_task_starts_when_the_slot_frees_and_observers_hear_it() -> None:
    backend, clock = make(max_concurrent=1)
    seen = Changes()
    backend.observers.append(seen)
    first = create(backend, scenario="complete-after:10,pending:1")
    second = create(backend, scenario="pending:2")
    assert backend.get("k", second).record.start_at is None
    end = backend.get("k", first).record.end_at
    assert end is not None
    clock.advance(60)
    record = backend.get("k", second).record
    assert record.start_at == end + 2_000_000_000
    assert seen.changed == [(second, record.start_at)]
    assert create(backend) != second  # another key's lane is independent
    assert backend.create("other", body(), "x").record.start_at is not None


def test_slots_are_per_key_and_hand_over_in_order_without_reads() -> None:
    backend, _ = make(max_concurrent=2)
    ids = [create(backend, scenario="complete-after:10,pending:0") for _ in range(6)]
    backend.advance(35)  # three generations of two finish; only the catch-up on advance ran
    starts = [backend.store.get(i).start_at for i in ids]  # type: ignore[union-attr]
    assert None not in starts
    base = starts[0]
    assert base is not None
    offsets = [(s or 0) - base for s in starts]
    assert offsets == [0, 0, 10**10, 10**10, 2 * 10**10, 2 * 10**10]


def test_cancelling_a_slot_holder_hands_its_slot_over_now() -> None:
    backend, clock = make(max_concurrent=1)
    first = create(backend, scenario="pending:30")
    second = create(backend, scenario="pending:0")
    clock.advance(5)
    backend.cancel("k", first)
    assert backend.get("k", second).status.value == "processing"


def test_unlimited_concurrency_has_no_queue() -> None:
    backend, _ = make()
    assert backend.queue is None
    assert all(backend.get("k", create(backend)).record.start_at for _ in range(3))


async def test_the_ticker_starts_queued_tasks_on_a_flowing_clock_without_reads() -> None:
    """The one wall-clock wait here: ~20 ms at speed 1000, bounded by 5 s."""
    backend = Backend(Settings(max_concurrent=1), clock=SystemClock(speed=1000))
    started = asyncio.Event()

    class Seen(BackendObserver):
        def task_changed(self, record: TaskRecord) -> None:
            started.set()

    backend.observers.append(Seen())
    create(backend, scenario="pending:0,complete-after:20")
    second = create(backend)
    record = backend.store.get(second)
    assert record is not None
    assert record.start_at is None
    for observer in backend.observers:
        await observer.start()
    try:
        with anyio.fail_after(5):
            await started.wait()
    finally:
        for observer in backend.observers:
            await observer.stop()
    assert record.start_at is not None
