"""The refused lane: events to an endpoint the policy refuses, concluded after they fall due.

Nothing is ever sent to such an endpoint (the fake is offline by default, and the seed's own
``webhook.site`` endpoint is one), yet each event is logged as "not sent", at the instant it
fell due, as the real service would have tried it then. The general schedule
(:mod:`.schedule`) builds a task queue, a job per attempt and a pass through the sender's
loop for that, and the sender woke for every new task; here a new task is one queue entry,
its events are worked out once (while the new record is in the cache), and a turn of the
lane is one log entry per task.
Since each line carries the event's own instant, the lane need not be worked off the moment
an event falls due: the sender does it in batches, and every read of the delivery log does
it first (``DeliveryLog.settle``), so a reader never misses a line that is due.

Pure: no I/O, no waiting (the dispatcher logs what :meth:`RefusedLane.due` returns).
Redeliveries and chaos are not the lane's: a redelivery goes through the schedule (which
knows the task's own events are planned here), and with delay or reorder chaos on, every
event stays in the schedule, where chaos applies.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Final

from mock_server.domain.models import Status, TaskRecord
from mock_server.webhooks.log import Refused

#: Events the sender concludes per turn (a backlog is worked off in turns).
LANE_BATCH: Final = 256
#: A task's event as the lane keeps it: (virtual instant, status shown).
Line = tuple[int, str]

_PENDING: Final = Status.PENDING.value
_PROCESSING: Final = Status.PROCESSING.value
_COMPLETED: Final = Status.COMPLETED.value
_FAILED: Final = Status.FAILED.value
_TERMINAL: Final = frozenset(status.value for status in Status if status.terminal)


def lines(record: TaskRecord, terminal_only: bool, cancel_status: str) -> tuple[Line, ...]:
    """``events.task_events`` as (instant, status value) pairs: the same statuses, a status
    that lasts no time sending none, in straight-line code (the lane's hot path; a test checks
    the two agree on every record). Atomic all through: the collector stops tracking it."""
    created, cancelled = record.created_at, record.cancelled_at
    if cancelled is not None:
        if terminal_only or cancelled <= created:
            return ((cancelled, cancel_status),)
        return ((created, _PENDING), (cancelled, cancel_status))
    start, end = record.start_at, record.end_at
    if start is None or end is None:  # still waiting, or never ending
        if terminal_only:
            return ()
        if start is None:
            return ((created, _PENDING),)
        return (
            ((created, _PENDING), (start, _PROCESSING))
            if start > created
            else ((start, _PROCESSING),)
        )
    final = (end, _FAILED if record.failure else _COMPLETED)
    if terminal_only:
        return (final,)
    if start > created:
        return (
            ((created, _PENDING), (start, _PROCESSING), final)
            if end > start
            else ((created, _PENDING), final)
        )
    return ((start, _PROCESSING), final) if end > start else (final,)


#: A task's plan: (url, refusal reason, its lines, how many are concluded, the statuses
#: concluded before its last re-plan, token). A plain tuple of strings, ints and tuples, so
#: the garbage collector stops walking it after its first look; replaced, never changed.
_Plan = tuple[str, str, tuple[Line, ...], int, tuple[str, ...], int]
_URL: Final = 0
_REASON: Final = 1
_TODO: Final = 2
_DONE: Final = 3
_SENT: Final = 4
_TOKEN: Final = 5


class RefusedLane:
    """Per task, the events still due: new plans in a queue, the rest on a heap of
    (due, seq, task id, token).

    :meth:`configure` sets the event mode and the status a cancel shows (the schedule's).
    """

    def __init__(self) -> None:
        self.terminal_only = False
        self.cancel_status = _FAILED
        self._plans: dict[str, _Plan] = {}
        #: Tasks whose terminal event was concluded here (a later change plans nothing).
        self._done: set[str] = set()
        self._heap: list[tuple[int, int, str, int]] = []
        #: New plans in due order (their first line), outside the heap: a task's first
        #: lines (pending, usually processing too) cost no heap step.
        self._fresh: deque[tuple[int, str]] = deque()
        self._seq = 0

    def configure(self, terminal_only: bool, cancel_status: str) -> None:
        """Send only terminal events or all; the status a cancelled task's event shows."""
        self.terminal_only, self.cancel_status = terminal_only, cancel_status

    def steps(self, record: TaskRecord) -> tuple[Line, ...]:
        """``record``'s events in this lane's mode."""
        return lines(record, self.terminal_only, self.cancel_status)

    def plan(self, record: TaskRecord, url: str, reason: str) -> None:
        """Plan a new task, or plan a changed one again, less the statuses already
        concluded; ``reason``: why its endpoint ``url`` is refused."""
        task_id = record.task_id
        if task_id in self._done:
            return
        plan = self._plans.get(task_id)
        if plan is None:  # worked out now, while the new record is in the cache
            todo = self.steps(record)
            if todo:
                self._plans[task_id] = (url, reason, todo, 0, (), 0)
                fresh, due = self._fresh, todo[0][0]
                if not fresh or fresh[-1][0] <= due:
                    fresh.append((due, task_id))
                else:  # out of order (a clock set back): the heap keeps it right
                    self._seq += 1
                    heapq.heappush(self._heap, (due, self._seq, task_id, 0))
            return
        sent = (*plan[_SENT], *(status for _, status in plan[_TODO][: plan[_DONE]]))
        todo = tuple(step for step in self.steps(record) if step[1] not in sent)
        token = plan[_TOKEN] + 1
        if not todo:
            self._finish(task_id, sent)
            return
        self._plans[task_id] = (plan[_URL], plan[_REASON], todo, 0, sent, token)
        self._seq += 1
        heapq.heappush(self._heap, (todo[0][0], self._seq, task_id, token))

    def due(self, now: int, limit: int) -> list[Refused]:
        """The events due at ``now`` as the delivery log keeps them, one entry per task
        (task id, url, refusal reason, its due lines in order; new tasks first, in creation
        order, then the others in the order their next line fell due), each concluded; about
        ``limit`` events at most (a task's due events are concluded together)."""
        found: list[Refused] = []
        fresh, heap, plans, count = self._fresh, self._heap, self._plans, 0
        while fresh and fresh[0][0] <= now and count < limit:
            _, task_id = fresh.popleft()
            plan = plans.get(task_id)
            if plan is not None and plan[_TOKEN] == 0:
                count += self._conclude(task_id, plan, now, found)
        while heap and heap[0][0] <= now and count < limit:
            _, _, task_id, token = heapq.heappop(heap)
            plan = plans.get(task_id)
            if plan is not None and plan[_TOKEN] == token:  # else: planned again, or forgotten
                count += self._conclude(task_id, plan, now, found)
        return found

    def _conclude(self, task_id: str, plan: _Plan, now: int, found: list[Refused]) -> int:
        """Add ``plan``'s lines due at ``now`` to ``found``; plan its next or finish it."""
        url, reason, todo, first, sent, token = plan
        last = first
        while last < len(todo) and todo[last][0] <= now:
            last += 1
        if last > first:
            found.append((task_id, url, reason, todo[first:last]))
        if last < len(todo):
            self._plans[task_id] = (url, reason, todo, last, sent, token)
            self._seq += 1
            heapq.heappush(self._heap, (todo[last][0], self._seq, task_id, token))
        else:
            self._finish(task_id, (*sent, todo[-1][1]) if todo else sent)
        return last - first

    def _finish(self, task_id: str, sent: tuple[str, ...]) -> None:
        del self._plans[task_id]
        if not _TERMINAL.isdisjoint(sent):
            self._done.add(task_id)

    def next_due(self) -> int | None:
        """The earliest instant an event may be due here, or None."""
        fresh, heap, plans = self._fresh, self._heap, self._plans
        while fresh:
            plan = plans.get(fresh[0][1])
            if plan is not None and plan[_TOKEN] == 0:
                break
            fresh.popleft()
        while heap:
            _, _, task_id, token = heap[0]
            plan = plans.get(task_id)
            if plan is not None and plan[_TOKEN] == token:
                break
            heapq.heappop(heap)
        dues = [entries[0][0] for entries in (fresh, heap) if entries]
        return min(dues) if dues else None

    def knows(self, task_id: str) -> bool:
        """Whether ``task_id``'s events are (or were) planned here."""
        return task_id in self._plans or task_id in self._done

    def forget(self, task_id: str) -> None:
        """A task left the store: drop its mark, and its plan if nothing was concluded yet
        (as the schedule drops a plan not yet started; one under way runs to its end)."""
        self._done.discard(task_id)
        plan = self._plans.get(task_id)
        if plan is not None and not plan[_SENT] and not plan[_DONE]:
            del self._plans[task_id]

    def queued(self) -> int:
        """Events still to conclude."""
        count = 0
        for plan in self._plans.values():
            count += len(plan[_TODO]) - plan[_DONE]
        return count

    def clear(self) -> None:
        """Forget everything."""
        self._plans.clear()
        self._done.clear()
        self._heap.clear()
        self._fresh.clear()
