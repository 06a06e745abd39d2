"""The webhook schedule: per task, the events still to deliver, in order, on a heap of due
virtual instants. Pure: no I/O, no waiting; the dispatcher asks what is due and reports back.

A task's head event is attempted when due; its next event waits until the head is concluded
(delivered, given up or rejected), so the events of one task arrive in order (unless reorder
chaos is on). Plans are rebuilt on every change of the task (cancel, forced end, a queued task
getting its start); stale heap entries are skipped by a per-task token.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from mock_server.domain.clock import to_ns
from mock_server.domain.models import Status, TaskRecord, WebhookTarget
from mock_server.settings import Settings
from mock_server.webhooks import events
from mock_server.webhooks.chaos import Chaos
from mock_server.webhooks.events import Event
from mock_server.webhooks.refused_lane import RefusedLane


class Result(StrEnum):
    """What an attempt led to."""

    DELIVERED = "delivered"
    RETRYING = "retrying"
    GAVE_UP = "gave_up"
    REJECTED = "rejected"


@dataclass(slots=True)
class Pending:
    """An event waiting in a task's queue, due at ``due_ns``."""

    event: Event
    due_ns: int
    chaos: str = ""


@dataclass(slots=True)
class Job:
    """One attempt to make now. Its :attr:`body` is built when first read: an attempt to an
    endpoint the policy refuses never builds it."""

    task_id: str
    target: WebhookTarget
    event: Event
    attempt: int
    epoch: int
    chaos: str = ""
    queue: TaskQueue | None = field(default=None, repr=False, compare=False)
    cancel_status: Status = field(default=Status.FAILED, repr=False, compare=False)
    built: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def body(self) -> bytes:
        """``{"timestamp", "data"}`` of the event (kept by the task's queue for its retries)."""
        if self.built is None:
            queue = self.queue
            if queue is not None and queue.body is not None:
                self.built = queue.body
            else:
                assert queue is not None, "a job without a queue is built with its body"
                self.built = events.body(queue.record, self.event, self.cancel_status)
                queue.body = self.built
        return self.built


@dataclass(slots=True)
class TaskQueue:
    """A task's undelivered events (head first) and what was already concluded."""

    record: TaskRecord
    items: list[Pending] = field(default_factory=list)
    #: Statuses whose (non-redelivery) event was concluded.
    sent: frozenset[Status] = frozenset()
    #: Chaos delays drawn per status (None while chaos delay is off).
    delays: dict[Status, int] | None = None
    attempts: int = 0
    busy: bool = False
    token: int = 0
    body: bytes | None = None
    reordered: bool = False


class Schedule:
    """Every task's webhook queue and one heap of (due, seq, task id, token).

    Memory stays small: a new task is only a heap entry (token 0) and a reference to its
    record until its first event falls due; its queue (a few objects) exists while it has
    events to send, and is dropped once its terminal event is concluded. (Every object per
    task lengthens the garbage collector's pauses, which the API's p99 latency shows.)
    """

    def __init__(self, settings: Settings) -> None:
        #: Events to endpoints the policy refuses (see :meth:`plan`).
        self.lane = RefusedLane()
        self.configure(settings)
        self.queues: dict[str, TaskQueue] = {}
        self._fresh: dict[str, TaskRecord] = {}
        self._done: set[str] = set()
        self._heap: list[tuple[int, int, str, int]] = []
        #: Due entries whose host was full (``take``'s ``admit``), by host key.
        self._parked: dict[str, list[tuple[int, int, str, int]]] = {}
        self._seq = 0
        self.epoch = 0

    def configure(self, settings: Settings) -> None:
        """Take (new) settings: event mode, attempts, retry delay, chaos."""
        if settings.webhook_events not in events.EVENT_MODES:
            modes = " or ".join(events.EVENT_MODES)
            raise ValueError(f"webhook_events must be {modes}, not {settings.webhook_events!r}")
        self.mode = settings.webhook_events
        self.cancel_status = Status(settings.cancel_status)
        self.max_attempts = max(1, settings.webhook_attempts)
        self.retry_ns = to_ns(max(0.0, settings.webhook_retry_delay))
        self.chaos = Chaos(settings)
        self.lane.configure(self.mode == "terminal", self.cancel_status.value)

    def clear(self) -> None:
        """Forget everything; attempts in flight report to a dead epoch and are dropped."""
        self.queues.clear()
        self._fresh.clear()
        self._done.clear()
        self._heap.clear()
        self._parked.clear()
        self.lane.clear()
        self.epoch += 1

    def knows(self, task_id: str) -> bool:
        """Whether ``task_id`` is planned here or already concluded (shared stores)."""
        known = task_id in self.queues or task_id in self._fresh or task_id in self._done
        return known or self.lane.knows(task_id)

    def forget(self, task_id: str) -> None:
        """A task left the store: drop what is kept of it once nothing is in flight (its
        ``_done`` mark, a plan not yet started); an active queue finishes on its own."""
        self._done.discard(task_id)
        self._fresh.pop(task_id, None)
        self.lane.forget(task_id)

    # -- planning ---------------------------------------------------------------------------

    def steps(self, record: TaskRecord) -> list[Event]:
        """``record``'s events in this schedule's event mode."""
        return events.task_events(record, self.mode, self.cancel_status)

    def plan(self, record: TaskRecord, refused: str = "") -> bool:
        """(Re)build ``record``'s queue from its transitions; keep an attempt in flight.

        ``refused``: why the policy refuses the task's endpoint (nothing will be sent); unless
        delay or reorder chaos is on, its events then go to :attr:`lane`, which concludes
        them after they fall due, without a queue or a job (``RefusedLane.due``). Returns
        whether they did (then no sender need wake for them).
        """
        task_id = record.task_id
        if refused and record.webhook is not None and self.lane_open():
            self.lane.plan(record, record.webhook.endpoint, refused)
            return True
        if record.webhook is None or task_id in self._done:
            return False
        queue = self.queues.get(task_id)
        if queue is None and not self.chaos.delay_share:
            self._defer(record)
            return False
        if queue is None:
            queue = self.queues[task_id] = TaskQueue(record)
        self._replan(queue, record)
        return False

    def lane_open(self) -> bool:
        """Whether refused events may take the lane (no chaos that would change them)."""
        return not self.chaos.delay_share and not self.chaos.reorder_share

    def _defer(self, record: TaskRecord) -> None:
        """A task with no queue yet: one heap entry at its first event (the request path)."""
        steps = self.steps(record)
        if not steps:
            self._fresh.pop(record.task_id, None)
            return
        self._fresh[record.task_id] = record
        self._seq += 1
        heapq.heappush(self._heap, (steps[0].at_ns, self._seq, record.task_id, 0))

    def _materialize(self, record: TaskRecord) -> TaskQueue:
        self._fresh.pop(record.task_id, None)
        queue = self.queues[record.task_id] = TaskQueue(record)
        self._replan(queue, record)
        return queue

    def _replan(self, queue: TaskQueue, record: TaskRecord) -> None:
        queue.record = record
        old_head = queue.items[0] if queue.items else None
        kept = queue.items[:1] if queue.busy else []
        taken = {p.event.status for p in kept if not p.event.redelivery} | queue.sent
        fresh = [
            Pending(e, e.at_ns + self._delay(queue, e.status))
            for e in events.task_events(record, self.mode, self.cancel_status)
            if e.status not in taken
        ]
        redeliveries = [p for p in queue.items[len(kept) :] if p.event.redelivery]
        queue.items = kept + sorted(fresh + redeliveries, key=lambda p: p.due_ns)
        if queue.busy:
            pass
        elif queue.items and old_head is not None and queue.items[0].event == old_head.event:
            queue.items[0] = old_head  # the same head: keep its retry time and attempt count
        else:
            queue.attempts, queue.body = 0, None
        self._push(queue)

    def redeliver(self, record: TaskRecord, reached: list[Event], now: int) -> None:
        """Queue ``reached`` events of ``record`` once more, due now."""
        queue = self.queues.get(record.task_id)
        if queue is None and (record.task_id in self._done or self.lane.knows(record.task_id)):
            self._done.discard(record.task_id)  # its own events are concluded (or the lane's)
            queue = self.queues[record.task_id] = TaskQueue(record, sent=frozenset(Status))
        elif queue is None:
            queue = self._materialize(record)
        start = 1 if queue.busy else 0
        extra = [Pending(Event(e.status, e.at_ns, redelivery=True), now) for e in reached]
        queue.items[start:] = sorted(queue.items[start:] + extra, key=lambda p: p.due_ns)
        if not queue.busy:
            queue.attempts, queue.body = 0, None
        self._push(queue)

    def _delay(self, queue: TaskQueue, status: Status) -> int:
        if not self.chaos.delay_share:
            return 0
        if queue.delays is None:
            queue.delays = {}
        if status not in queue.delays:
            queue.delays[status] = self.chaos.delay_ns()
        return queue.delays[status]

    def _push(self, queue: TaskQueue) -> None:
        if queue.busy or not queue.items:
            return
        queue.token += 1
        self._seq += 1
        due = queue.items[0].due_ns
        heapq.heappush(self._heap, (due, self._seq, queue.record.task_id, queue.token))

    # -- running ----------------------------------------------------------------------------

    def _live(self, entry: tuple[int, int, str, int]) -> TaskQueue | None:
        queue = self.queues.get(entry[2])
        if queue is None or queue.busy or queue.token != entry[3] or not queue.items:
            return None
        return queue

    def _stale(self, entry: tuple[int, int, str, int]) -> bool:
        if entry[3] == 0:
            return entry[2] not in self._fresh
        return self._live(entry) is None

    def next_due(self) -> int | None:
        """The earliest virtual instant something is due (the lane's included), or None."""
        mine, lane = self.sending_due(), self.lane.next_due()
        if mine is None or lane is None:
            return lane if mine is None else mine
        return min(mine, lane)

    def sending_due(self) -> int | None:
        """The earliest virtual instant an attempt is due (not counting the lane), or None."""
        while self._heap and self._stale(self._heap[0]):
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def take(
        self, now: int, limit: int, admit: Callable[[str], str | None] | None = None
    ) -> list[Job]:
        """Up to ``limit`` attempts due at ``now``; their tasks are busy until :meth:`finish`.

        ``admit(endpoint)`` returns None to let an attempt start, or the key of a full host:
        the entry is then parked under that key until :meth:`unpark`.
        """
        jobs: list[Job] = []
        while len(jobs) < limit and self._heap and self._heap[0][0] <= now:
            entry = heapq.heappop(self._heap)
            if entry[3] == 0:
                record = self._fresh.get(entry[2])
                if record is not None:
                    self._materialize(record)
                continue
            queue = self._live(entry)
            if queue is None:
                continue
            if self._maybe_reorder(queue):
                continue
            webhook = queue.record.webhook
            full = admit(webhook.endpoint) if admit is not None and webhook else None
            if full is not None:
                heapq.heappush(self._parked.setdefault(full, []), entry)
                continue
            jobs.append(self._start(queue))
        return jobs

    def unpark(self, key: str, room: int = 1) -> None:
        """Put the ``room`` earliest live entries parked for host ``key`` back on the heap
        (due as they were); stale ones met on the way are dropped.

        Only as many as the host has free slots: putting every parked entry back on each
        freed slot re-parked all but one of them each time, a cost quadratic in the backlog
        (thousands of tasks whose events wait for one slow, or refused, host).
        """
        parked = self._parked.get(key)
        while parked and room > 0:
            entry = heapq.heappop(parked)
            if not self._stale(entry):
                heapq.heappush(self._heap, entry)
                room -= 1
        if not parked:
            self._parked.pop(key, None)

    def parked(self) -> int:
        """Entries waiting for their host (not counted as due)."""
        return sum(len(entries) for entries in self._parked.values())

    def _maybe_reorder(self, queue: TaskQueue) -> bool:
        items = queue.items
        if queue.attempts or queue.reordered or len(items) < 2 or not self.chaos.reorder():
            return False
        items[0], items[1] = items[1], items[0]
        items[1].due_ns = max(items[1].due_ns, items[0].due_ns)
        items[1].chaos = "reordered"
        queue.reordered, queue.body = True, None
        self._push(queue)
        return True

    def _start(self, queue: TaskQueue) -> Job:
        record, head = queue.record, queue.items[0]
        event = head.event
        assert record.webhook is not None
        queue.busy = True
        queue.attempts += 1
        delays = queue.delays or {}
        delayed = not event.redelivery and delays.get(event.status, 0) > 0
        chaos = head.chaos or ("delayed" if delayed else "")
        return Job(
            record.task_id,
            record.webhook,
            event,
            queue.attempts,
            self.epoch,
            chaos,
            queue=queue,
            cancel_status=self.cancel_status,
        )

    def release(self, job: Job) -> None:
        """Give back a job whose attempt was cancelled before it ended (not counted)."""
        queue = self.queues.get(job.task_id)
        if job.epoch != self.epoch or queue is None or not queue.busy:
            return
        queue.busy = False
        queue.attempts -= 1
        self._push(queue)

    def finish(self, job: Job, ok: bool, retryable: bool, now: int) -> Result:
        """Record an attempt's outcome; schedule the retry or the task's next event."""
        queue = self.queues.get(job.task_id)
        if job.epoch != self.epoch or queue is None:
            return Result.DELIVERED if ok else Result.GAVE_UP
        queue.busy = False
        if not ok and retryable and queue.attempts < self.max_attempts:
            queue.items[0].due_ns = now + self.retry_ns
            self._push(queue)
            return Result.RETRYING
        head = queue.items.pop(0)
        if not head.event.redelivery:
            queue.sent |= {head.event.status}
        queue.attempts, queue.body = 0, None
        if not queue.items and any(status.terminal for status in queue.sent):
            del self.queues[job.task_id]  # nothing can follow a terminal event
            self._done.add(job.task_id)
        self._push(queue)
        if ok:
            return Result.DELIVERED
        return Result.GAVE_UP if retryable else Result.REJECTED

    def queued(self) -> int:
        """Events still to deliver (in flight included)."""
        waiting = sum(
            len(events.task_events(r, self.mode, self.cancel_status)) for r in self._fresh.values()
        )
        return waiting + sum(len(q.items) for q in self.queues.values()) + self.lane.queued()
