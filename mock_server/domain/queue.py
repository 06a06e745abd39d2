"""``--max-concurrent``: at most N tasks per key hold a slot; the rest wait, ``pending``.

A task holds a slot from create (or from the moment it leaves the queue) until it ends or is
cancelled. Waiting tasks have ``start_at = None``. When a holder ends at virtual T, the oldest
waiting task of that key starts at T plus its own pending delay. :meth:`catch_up` replays
those hand-overs up to "now" from a heap of holders' end instants; it costs one comparison
when nothing is due.

Deviation: PiAPI documents that ``pending`` tasks count toward the limit and wait for a free
account; the order in which waiting tasks start (FIFO per key here) is a guess.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from mock_server.domain.clock import NS, Clock
from mock_server.domain.models import TaskRecord
from mock_server.domain.observers import BackendObserver

log = logging.getLogger("piapi_mock")


@dataclass(slots=True)
class Lane:
    """One key's slots and waiting line."""

    holders: set[str] = field(default_factory=set)
    waiting: deque[tuple[TaskRecord, int]] = field(default_factory=deque)


@dataclass(slots=True)
class SlotQueue:
    """Every key's lane; ``started`` is called for each task that leaves a waiting line."""

    limit: int
    started: Callable[[TaskRecord], None]
    lanes: dict[str, Lane] = field(default_factory=dict)
    _heap: list[tuple[int, int, TaskRecord]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def lane(self, owner: str) -> Lane:
        """``owner``'s lane (created empty)."""
        found = self.lanes.get(owner)
        if found is None:
            found = self.lanes[owner] = Lane()
        return found

    def admit(self, record: TaskRecord, pending_ns: int, now: int) -> None:
        """A new task: take a slot (start after ``pending_ns``) or wait (``start_at = None``)."""
        lane = self.lane(record.owner)
        if len(lane.holders) < self.limit:
            record.start_at = now + pending_ns
            self._hold(lane, record)
        else:
            record.start_at = None
            lane.waiting.append((record, pending_ns))

    def track(self, record: TaskRecord) -> None:
        """``record``'s end changed (forced): make it a holder and note its new end."""
        self._hold(self.lane(record.owner), record)

    def _hold(self, lane: Lane, record: TaskRecord) -> None:
        lane.holders.add(record.task_id)
        end = record.end_at
        if end is not None:
            heapq.heappush(self._heap, (end, next(self._seq), record))

    def due(self, now: int) -> bool:
        """Whether a holder ended at or before ``now`` (the cheap check before a catch-up)."""
        return bool(self._heap) and self._heap[0][0] <= now

    def next_due(self) -> int | None:
        """The next instant a slot may free, if any (for schedulers that wait)."""
        return self._heap[0][0] if self._heap else None

    def catch_up(self, now: int) -> None:
        """Free every slot whose holder ended by ``now``, starting waiting tasks in order."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            end, _, record = heapq.heappop(heap)
            lane = self.lane(record.owner)
            if record.end_at != end or record.task_id not in lane.holders:
                continue  # stale entry
            lane.holders.discard(record.task_id)
            self._fill(lane, end)

    def release(self, record: TaskRecord, at: int) -> None:
        """``record`` gave up its slot (cancelled) or its place in line, at ``at``."""
        lane = self.lane(record.owner)
        if record.task_id in lane.holders:
            lane.holders.discard(record.task_id)
            self._fill(lane, at)

    def _fill(self, lane: Lane, at: int) -> None:
        while lane.waiting and len(lane.holders) < self.limit:
            record, pending_ns = lane.waiting.popleft()
            if record.cancelled_at is not None or record.start_at is not None:
                continue  # cancelled or forced while waiting
            record.start_at = at + pending_ns
            self._hold(lane, record)
            self.started(record)

    def resolve(self, record: TaskRecord) -> TaskRecord:
        """``record`` once its lane caught up (here the record is the live one already)."""
        return record

    def clear(self) -> None:
        """Forget every lane."""
        self.lanes.clear()
        self._heap.clear()


class SlotTicker(BackendObserver):
    """Wakes when the next slot frees on a flowing clock, so queued tasks start (and observers
    such as the webhook dispatcher hear it) even when nobody reads. Runs only while served
    (the app's lifespan calls :meth:`start`); on a manual clock ``advance`` catches up itself.
    """

    def __init__(self, queue: SlotQueue, clock: Clock, catch_up: Callable[[], None]) -> None:
        self.queue = queue
        self.clock = clock
        self.catch_up = catch_up
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def task_created(self, record: TaskRecord) -> None:
        self._poke()

    def task_changed(self, record: TaskRecord) -> None:
        self._poke()

    def clock_moved(self) -> None:
        self._poke()

    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        task, self._task, self._wake = self._task, None, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        wake = self._wake
        assert wake is not None
        while True:
            wake.clear()
            try:
                self.catch_up()
            except Exception:  # an observer's bug must not stop the hand-overs
                log.exception("catching up the concurrency queue failed")
            due = self.queue.next_due()
            delay = None
            if due is not None:
                delay = self.clock.wall_delay(max(0, due - self.clock.now()) / NS)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):  # not wait_for: 3.11's can swallow a cancel
                    await wake.wait()
