"""What the dashboard shows, as JSON-ready data built from the backend (no Starlette here).

Every function is bounded by what the page asks for: a task page walks the store newest first
and stops at ``limit`` matches (or after :data:`SCAN_LIMIT` records when a filter matches
rarely), so a poll never builds every task. :class:`ChangeCounter` is the cheap part of the
poll: one integer bumped by the backend's observer hooks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any, Final

from mock_server.domain.backend import Backend
from mock_server.domain.clock import to_ns
from mock_server.domain.lifecycle import view as view_at
from mock_server.domain.models import Status, TaskRecord, TaskView
from mock_server.domain.observers import BackendObserver
from mock_server.domain.render import envelope_json, rfc3339
from mock_server.domain.store import TaskStore
from mock_server.web import control

#: Most records one task page looks at when a filter matches rarely.
SCAN_LIMIT: Final = 5_000
MAX_PAGE: Final = 500
JOURNAL_TAIL: Final = 200


class ChangeCounter(BackendObserver):
    """Counts what the page cannot see from the clock alone: creates, moves, jumps, resets.

    Status changes that follow from time passing are not counted: each row carries its next
    transition instant (``next_at_ns``) and the page refetches once the clock passes it.
    """

    def __init__(self) -> None:
        self.version = 0
        #: Every (model, task_type) pair created so far (the table's filter choices).
        self.kinds: set[tuple[str, str]] = set()

    def task_created(self, record: TaskRecord) -> None:
        self.version += 1
        self.kinds.add((record.model, record.task_type))

    def task_changed(self, record: TaskRecord) -> None:
        self.version += 1

    def clock_moved(self) -> None:
        self.version += 1

    def reset(self) -> None:
        self.version += 1
        self.kinds.clear()


def change_counter(backend: Backend) -> ChangeCounter:
    """The backend's counter, registered as an observer on first use (idempotent)."""
    for observer in backend.observers:
        if isinstance(observer, ChangeCounter):
            return observer
    counter = ChangeCounter()
    counter.kinds.update((r.model, r.task_type) for r in backend.store)  # once per backend
    backend.observers.append(counter)
    return counter


#: The control plane's key fingerprint (``/_mock/tasks`` shows the same), memoised: a page
#: of rows repeats a few keys.
fingerprint = lru_cache(maxsize=1024)(control.fingerprint)


def newest_first(store: TaskStore) -> Iterator[TaskRecord]:
    """The store's records, newest first, without copying them when the store can reverse."""
    backwards = getattr(store, "__reversed__", None)
    if backwards is not None:
        found: Iterator[TaskRecord] = backwards()
        return found
    return reversed(list(store))


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """What the table is filtered by (empty strings match everything)."""

    status: str = ""
    key: str = ""
    task_type: str = ""
    model: str = ""

    def matches_record(self, record: TaskRecord) -> bool:
        """The filters a record answers without a view."""
        return (
            (not self.key or fingerprint(record.owner) == self.key)
            and (not self.task_type or record.task_type == self.task_type)
            and (not self.model or record.model == self.model)
        )


def next_transition(record: TaskRecord, now: int) -> int | None:
    """The next virtual instant the record's status changes after ``now`` (None: never)."""
    if record.cancelled_at is not None:
        return record.cancelled_at if record.cancelled_at > now else None
    for instant in (record.start_at, record.end_at):
        if instant is not None and instant > now:
            return instant
    return None


def task_row(current: TaskView, now: int) -> dict[str, Any]:
    """One table row: identity, status, cost, times, and the plan the progress bar follows."""
    record = current.record
    error = current.error
    return {
        "task_id": record.task_id,
        "key": fingerprint(record.owner),
        "model": record.model,
        "task_type": record.task_type,
        "status": current.status.value,
        "cost": record.cost,
        "consume": current.consume,
        "created_at_ns": record.created_at,
        "start_at_ns": record.start_at,
        "end_at_ns": record.end_at,
        "started_at_ns": current.started_at,
        "ended_at_ns": current.ended_at,
        "next_at_ns": next_transition(record, now),
        "error": error.message if error is not None else "",
        "webhook": record.webhook is not None,
    }


def task_page(backend: Backend, wanted: TaskFilter, limit: int) -> dict[str, Any]:
    """The newest ``limit`` tasks matching ``wanted``, as rows (bounded work)."""
    backend.catch_up()
    now = backend.clock.now()
    cancel_status = backend.cancel_status
    rows: list[dict[str, Any]] = []
    scanned = 0
    for record in islice(_live(backend), SCAN_LIMIT):
        scanned += 1
        if not wanted.matches_record(record):
            continue
        current = view_at(record, now, cancel_status)
        if wanted.status and current.status.value != wanted.status:
            continue
        rows.append(task_row(current, now))
        if len(rows) >= limit:
            break
    total = len(backend.store)
    return {
        "now_ns": now,
        "total": total,
        "tasks": rows,
        "truncated": scanned >= SCAN_LIMIT and scanned < total and len(rows) < limit,
    }


def _live(backend: Backend) -> Iterator[TaskRecord]:
    """Records within retention, newest first (as the API would still answer them)."""
    records = newest_first(backend.store)
    if not backend.settings.retention:
        return records
    oldest = backend.clock.now() - to_ns(backend.settings.retention)
    return (r for r in records if r.created_at >= oldest)


def task_detail(backend: Backend, record: TaskRecord, attempts: list[Any]) -> dict[str, Any]:
    """Everything about one task: the stored request, the GET answer now, webhooks, journal."""
    backend.catch_up()
    now = backend.clock.now()
    current = view_at(record, now, backend.cancel_status)
    request = {
        "model": record.model,
        "task_type": record.task_type,
        "input": json.loads(record.input_json),
        "config": json.loads(record.config_json),
    }
    lines = [e.as_dict() for e in backend.journal if e.task_id == record.task_id]
    return {
        "row": task_row(current, now),
        "request": request,
        "answer": json.loads(envelope_json(current)),
        "webhook_endpoint": record.webhook.endpoint if record.webhook else "",
        "attempts": attempts,
        "journal": lines[-JOURNAL_TAIL:],
    }


def accounts(backend: Backend, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` keys' ledgers (by fingerprint): frozen, used and remaining points."""
    backend.catch_up()
    backend.ledger.settle(backend.clock.now())
    ledger = backend.ledger
    found = []
    for owner in list(islice(ledger.accounts, limit)):
        wallet = ledger.wallet(owner)
        found.append({"key": fingerprint(owner), **wallet, "unlimited": not ledger.credits})
    return found


def journal_tail(backend: Backend, limit: int) -> dict[str, Any]:
    """The newest ``limit`` journal entries, newest first."""
    journal = backend.journal
    entries = list(islice(reversed(journal.calls), limit))
    calls = [{**e.as_dict(), "at_iso": rfc3339(e.at)} for e in entries]
    return {"count": journal.call_count, "calls": calls}


def statuses() -> list[str]:
    """Every status a row can show, in lifecycle order."""
    return [s.value for s in Status]
