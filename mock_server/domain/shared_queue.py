"""``--max-concurrent`` over a shared store: one limit per key for every process.

Each key's lane is one JSON value in the store's key-value space, changed only by
compare-and-set (:meth:`TaskStore.kv_swap`): ``h`` maps each slot holder to its
``[start, end]`` (end -1: never, a stuck task), ``w`` is the waiting line, oldest first, as
``[task, pending_ns, run_ns]``.
Every change first replays the hand-overs due by the shared clock's "now" exactly as
:class:`~mock_server.domain.queue.SlotQueue` does in one process (a holder that ended at T
gives its slot to the oldest waiting task, which starts at T plus its own pending delay), so
the line is FIFO per key across all processes, in the order creates reached the store. The
process whose swap wins applies the hand-overs it replayed to the task records (``started``);
a get of a waiting task first catches its lane up (:meth:`StoreQueue.resolve`).

Deviation from one process: if a process dies between winning a swap and writing the tasks
it started, those tasks stay ``pending`` (their slots are taken).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mock_server.domain.models import NEVER, TaskRecord
from mock_server.domain.queue import SlotQueue
from mock_server.domain.store import TaskStore

Lane = dict[str, Any]


def _end(start: int, run_ns: int) -> int:
    return -1 if run_ns >= NEVER else start + run_ns


def fill(lane: Lane, limit: int, at: int, started: list[tuple[str, int]]) -> None:
    """Give free slots to the oldest waiting tasks at ``at`` (noted in ``started``)."""
    holders: dict[str, list[int]] = lane["h"]
    waiting: list[list[Any]] = lane["w"]
    while waiting and len(holders) < limit:
        task_id, pending_ns, run_ns = waiting.pop(0)
        start = at + pending_ns
        holders[task_id] = [start, _end(start, run_ns)]
        started.append((task_id, start))


def replay(lane: Lane, limit: int, now: int) -> list[tuple[str, int]]:
    """Hand over every slot freed by ``now``; the (task, start) of each task started."""
    holders: dict[str, list[int]] = lane["h"]
    started: list[tuple[str, int]] = []
    while True:
        due = [(end, task) for task, (_, end) in holders.items() if 0 <= end <= now]
        if not due:
            return started
        end, task = min(due)
        del holders[task]
        fill(lane, limit, end, started)


class StoreQueue(SlotQueue):
    """:class:`SlotQueue`'s interface over lanes in the store."""

    def __init__(
        self,
        store: TaskStore,
        limit: int,
        started: Callable[[TaskRecord], None],
        now: Callable[[], int],
    ) -> None:
        super().__init__(limit, started)
        self.store = store
        self.now = now
        #: The next end this process knows of, per key (when to catch up unasked).
        self.ends: dict[str, int] = {}

    def _change(
        self, owner: str, edit: Callable[[Lane, list[tuple[str, int]]], bool] | None = None
    ) -> None:
        """Replay ``owner``'s lane up to now, apply ``edit``, swap it in; then start the tasks
        the replay (and ``edit``) handed slots to. ``edit`` says whether it changed the lane."""
        key = f"lane:{owner}"
        while True:
            raw = self.store.kv_get(key)
            lane: Lane = json.loads(raw) if raw else {"h": {}, "w": []}
            started = replay(lane, self.limit, self.now())
            changed = edit(lane, started) if edit is not None else False
            if not started and not changed:
                break  # nothing changed: no write
            if self.store.kv_swap(key, raw, json.dumps(lane, separators=(",", ":"))):
                break
        ends = [end for _, end in lane["h"].values() if end >= 0]
        if ends:
            self.ends[owner] = min(ends)
        else:
            self.ends.pop(owner, None)
        for task_id, start in started:
            record = self.store.get(task_id)
            # None: not stored yet; its creator adopts the start (:meth:`adopt`)
            if record is not None and record.start_at is None and record.cancelled_at is None:
                record.start_at = start
                self.started(record)

    def admit(self, record: TaskRecord, pending_ns: int, now: int) -> None:
        """Take a slot (start after ``pending_ns``) or join the line (``start_at = None``)."""

        def edit(lane: Lane, started: list[tuple[str, int]]) -> bool:
            if len(lane["h"]) < self.limit:
                start = record.start_at = now + pending_ns
                lane["h"][record.task_id] = [start, _end(start, record.run_ns)]
            else:
                record.start_at = None
                lane["w"].append([record.task_id, pending_ns, record.run_ns])
            return True

        self._change(record.owner, edit)

    def track(self, record: TaskRecord) -> None:
        """``record``'s end changed (forced): it holds a slot until its new end."""

        def edit(lane: Lane, started: list[tuple[str, int]]) -> bool:
            lane["w"] = [w for w in lane["w"] if w[0] != record.task_id]
            end = record.end_at
            start = -1 if record.start_at is None else record.start_at
            lane["h"][record.task_id] = [start, -1 if end is None else end]
            return True

        self._change(record.owner, edit)

    def release(self, record: TaskRecord, at: int) -> None:
        """``record`` gave up its slot (cancelled) or its place in line."""

        def edit(lane: Lane, started: list[tuple[str, int]]) -> bool:
            held = lane["h"].pop(record.task_id, None) is not None
            kept = [w for w in lane["w"] if w[0] != record.task_id]
            changed = held or len(kept) != len(lane["w"])
            lane["w"] = kept
            if held:  # the freed slot goes to the line at ``at``
                fill(lane, self.limit, at, started)
            return changed

        self._change(record.owner, edit)

    def due(self, now: int) -> bool:
        return any(end <= now for end in self.ends.values())

    def next_due(self) -> int | None:
        return min(self.ends.values(), default=None)

    def catch_up(self, now: int) -> None:
        """Catch up every lane this process knows has a slot freeing by ``now``."""
        for owner in [o for o, end in self.ends.items() if end <= now]:
            self._change(owner)

    def adopt(self, record: TaskRecord) -> bool:
        """After storing a waiting ``record``: take the start a hand-over gave it before it
        was stored (another process caught its lane up in between); whether it did."""
        if record.start_at is not None:
            return False
        raw = self.store.kv_get(f"lane:{record.owner}")
        held = json.loads(raw)["h"].get(record.task_id) if raw else None
        if held is None or record.start_at is not None:
            return False
        record.start_at = held[0]
        return True

    def resolve(self, record: TaskRecord) -> TaskRecord:
        """A waiting ``record`` after its lane caught up (re-read if it started meanwhile)."""
        if record.start_at is not None or record.cancelled_at is not None:
            return record
        self._change(record.owner)
        return self.store.get(record.task_id) or record

    def clear(self) -> None:
        """Forget the ends seen here (the store's ``clear``, a reset, forgets the lanes)."""
        self.ends.clear()
