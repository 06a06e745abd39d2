"""Webhooks over a shared store: every process plans every task, one process sends each event.

Each process's dispatcher finds tasks created by other processes in the store's index of tasks
with a webhook (:meth:`SharedHooks.discover`, at most every :data:`POLL_S`), so a task's
events are planned everywhere. Before an attempt starts, :meth:`SharedHooks.vet` re-reads the
record (a task cancelled or forced elsewhere is re-planned instead) and claims the event in the
store (``hook:<task>:<status>``, an atomic first-wins claim): the process that wins sends it
and makes its retries; the others count it concluded. So each event is sent once across all
processes, and a process that dies leaves the events it has not claimed to the others.

Redeliveries asked for on ``/_mock/webhooks/redeliver`` go to a store log of requests (each
with a number from a store counter); every process plans each request it reads there, in log
order, at the instant it was asked for, and claims ``redeliver:<n>:<status>`` before sending:
one process sends it (and makes its retries), whichever process was asked.

Deviation from one process: across processes, events of one task are in order only as long as
no retry is pending (another process may send the next event while the first one retries).
Events to an endpoint the policy refuses (nothing is sent) are concluded and logged by the
process that created the task, without a claim or a re-read: a cancel made on another process
is then not reflected in those log lines, and if that process dies they are not written.
On Redis such a task is not even listed in the index the other processes read (the creating
process's policy decides, through :attr:`Backend.hook_refusal`): they have nothing to do
with it, and reading it back cost every process a record per refused task.
"""

from __future__ import annotations

import json
import json.encoder
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from typing import Final

from mock_server.domain.models import TaskRecord
from mock_server.domain.store import TaskStore
from mock_server.domain.write_behind import WriteBehind
from mock_server.webhooks import events
from mock_server.webhooks.events import Event
from mock_server.webhooks.log import Attempt, Refused, Settle
from mock_server.webhooks.schedule import Job, Schedule

#: How often a process looks for tasks created elsewhere (wall seconds).
POLL_S: Final = 0.05
LOG: Final = "webhooks"
#: The store log of redelivery requests, and how many of them it keeps.
REDELIVERIES: Final = "redeliveries"
KEEP: Final = 1000


def holder_name() -> str:
    """Who claims: host, process and a random part (unique per dispatcher)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SharedHooks:
    """Discovery of other processes' tasks and the claim of each event."""

    def __init__(self, store: TaskStore) -> None:
        self.store = store
        self.holder = holder_name()
        self.cursor: str | None = None
        self._polled = 0.0
        #: Redelivery requests read so far (a position in the store log; only later ones are
        #: this process's business), and per (task, status) the numbers of those planned.
        self.asked = store.log_count(REDELIVERIES)
        self.requests: dict[tuple[str, str], deque[int]] = {}

    def ask(
        self,
        schedule: Schedule,
        record: TaskRecord,
        chosen: list[Event],
        now: int,
        refused: Callable[[str], str] | None = None,
    ) -> None:
        """Log a redelivery request for every process, then plan it (and any others) here.

        A redelivery to an endpoint the policy refuses is planned (and logged) only by the
        process asked, as the first events were by the process that created the task."""
        number = self.store.incr("redelivery")
        entry = {
            "n": number,
            "task": record.task_id,
            "statuses": [e.status.value for e in chosen],
            "at": now,
        }
        self.store.append(REDELIVERIES, [json.dumps(entry, separators=(",", ":"))], KEEP)
        self.redeliveries(schedule, refused, number)

    def redeliveries(
        self, schedule: Schedule, refused: Callable[[str], str] | None = None, mine: int = 0
    ) -> int:
        """Plan the redelivery requests logged since the last look; how many."""
        count = self.store.log_count(REDELIVERIES)
        if count < self.asked:  # the store was reset
            self.asked, self.requests = 0, {}
        new = min(count - self.asked, KEEP)
        self.asked = count
        if new <= 0:
            return 0
        for text in self.store.tail(REDELIVERIES, new):
            entry = json.loads(text)
            record = self.store.get(entry["task"])
            if record is None or record.webhook is None:
                continue
            barred = refused is not None and bool(refused(record.webhook.endpoint))
            if barred and entry["n"] != mine:
                continue  # refused: the process asked logs it
            reached = events.task_events(record, "all", schedule.cancel_status)
            chosen = [e for e in reached if e.status.value in entry["statuses"]]
            schedule.redeliver(record, chosen, entry["at"])
            for event in [] if barred else chosen:
                key = (record.task_id, event.status.value)
                self.requests.setdefault(key, deque()).append(entry["n"])
        return new

    def discover(
        self,
        schedule: Schedule,
        force: bool = False,
        refused: Callable[[str], str] | None = None,
    ) -> int:
        """Plan the webhook tasks stored since the last look; how many were new here.

        Tasks whose endpoint ``refused`` names a reason for are left to the process that
        created them: nothing is sent to them, and that process logs their events."""
        now = time.monotonic()
        if not force and now - self._polled < POLL_S:
            return 0
        self._polled = now
        new = self.redeliveries(schedule, refused)
        while True:
            batch, self.cursor = self.store.scan(self.cursor, 500, hooks=True)
            for record in batch:
                hook = record.webhook
                if refused is not None and hook is not None and refused(hook.endpoint):
                    continue
                if not schedule.knows(record.task_id):
                    schedule.plan(record)
                    new += 1
            if len(batch) < 500:
                return new

    def vet(self, schedule: Schedule, jobs: list[Job], now: int) -> list[Job]:
        """The jobs this process should send now; the others are re-planned or concluded."""
        kept: list[Job] = []
        for job in jobs:
            if job.event.redelivery:
                if job.attempt > 1 or self._claim_redelivery(job):
                    kept.append(job)
                else:  # another process sends this one
                    schedule.finish(job, ok=True, retryable=False, now=now)
                continue
            fresh = self.store.get(job.task_id)
            queue = schedule.queues.get(job.task_id)
            if fresh is None:  # forgotten (reset, retention): nothing to tell
                schedule.finish(job, ok=True, retryable=False, now=now)
            elif queue is not None and fresh != queue.record:
                schedule.release(job)  # changed by another process: plan again
                schedule.plan(fresh)
            elif job.attempt > 1 or self.store.claim(self._key(job), self.holder):
                kept.append(job)
            else:  # another process sends this one
                schedule.finish(job, ok=True, retryable=False, now=now)
        return kept

    def _claim_redelivery(self, job: Job) -> bool:
        """Claim the request this redelivery job was planned from (the oldest one planned
        for its task and status: every process plans them in log order)."""
        found = self.requests.get((job.task_id, job.event.status.value))
        if not found:
            return True  # not from the store's log
        number = found.popleft()
        return self.store.claim(f"redeliver:{number}:{job.event.status.value}", self.holder)

    @staticmethod
    def _key(job: Job) -> str:
        return f"hook:{job.task_id}:{job.event.status.value}"


_ENCODE: Final = json.JSONEncoder(separators=(",", ":")).encode
#: A str as ``_ENCODE`` writes it (the C function itself: no encoder frame).
_STR: Final = json.encoder.encode_basestring_ascii


def attempt_text(attempt: Attempt) -> str:
    """``attempt`` as the store log keeps it: its fields as a JSON array, in order."""
    a = attempt
    row = (a.event, a.task_id, a.url, a.attempt, a.at_ns, a.status, a.error, a.latency_ms)
    return _ENCODE((*row, a.result, a.redelivery, a.chaos))


def refused_texts(
    task_id: str, url: str, error: str, lines: tuple[tuple[int, str], ...]
) -> Iterator[str]:
    """:func:`attempt_text` of :func:`refused_attempt` for each (instant, event) line, the
    parts shared by the lines of one task encoded once."""
    middle = f"{_STR(task_id)},{_STR(url)},1,"
    tail = f',null,{_STR(error)},0.0,"rejected",false,""]'
    for at, event in lines:
        yield f"[{_STR(event)},{middle}{at}{tail}"


class StoreDeliveryLog:
    """The delivery log as a store log shared by every process (``DeliveryLog``'s interface)."""

    def __init__(self, store: TaskStore, size: int) -> None:
        self.store = store
        self.size = max(1, size)
        self._behind = WriteBehind(store, LOG, self.size)
        self.settle: Settle | None = None  # as DeliveryLog's: called before every read

    def record(self, attempt: Attempt) -> None:
        """Add an attempt (written behind, in batches; this process's reads flush first)."""
        self._behind.add(attempt_text(attempt))

    def record_refused(self, entries: list[Refused]) -> int:
        """Add :func:`refused_attempt`'s attempt for each line of ``entries``; how many."""
        count = 0
        add = self._behind.add
        for task_id, url, error, lines in entries:
            for text in refused_texts(task_id, url, error, lines):
                add(text)
            count += len(lines)
        return count

    @property
    def count(self) -> int:
        """Attempts made by every process since the last reset."""
        self._settle()
        self._behind.flush()
        return self.store.log_count(LOG)

    def clear(self) -> None:
        """Drop what is queued: a reset clears the store."""
        self._behind.drop()

    def _settle(self) -> None:
        if self.settle is not None:
            self.settle()

    def _all(self) -> list[Attempt]:
        self._settle()
        self._behind.flush()
        return [Attempt(*json.loads(text)) for text in self.store.tail(LOG, self.size)]

    def __iter__(self) -> Iterator[Attempt]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def for_task(self, task_id: str) -> list[Attempt]:
        """The attempts for one task, oldest first."""
        return [a for a in self if a.task_id == task_id]

    def delivered(self, task_id: str | None = None) -> list[Attempt]:
        """Successful attempts (of one task if given)."""
        return [a for a in self if a.ok and (task_id is None or a.task_id == task_id)]
