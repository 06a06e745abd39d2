"""The lifecycle as a pure function of (task record, now): no timers, no per-task state.

pending -> processing -> completed | failed, and pending -> cancelled (shown as
``cancel_status``). ``started_at``/``ended_at`` are the virtual instants of the transitions.
"""

from __future__ import annotations

from typing import Final

from mock_server.domain.models import Failure, Status, TaskRecord, TaskView
from mock_server.domain.shapes import shape

#: Guess: PiAPI documents no error for a cancelled task; the fake shows HTTP-style 499.
CANCEL_FAILURE: Final = Failure(code=499, message="task canceled by user", raw_message="canceled")


def video_url(record: TaskRecord) -> str:
    """The URL of the task's (first) finished file, served by the fake itself."""
    return shape(record).first_url(record.base_url, record.task_id)


def view(record: TaskRecord, now: int, cancel_status: Status = Status.FAILED) -> TaskView:
    """What ``record`` looks like at virtual instant ``now`` (nanoseconds)."""
    if record.cancelled_at is not None and now >= record.cancelled_at:
        failure = CANCEL_FAILURE if cancel_status is Status.FAILED else None
        return TaskView(record, cancel_status, None, record.cancelled_at, "", 0, failure)
    start = record.start_at
    if start is None or now < start:
        return TaskView(record, Status.PENDING, None, None, "", 0, None)
    end = record.end_at
    if end is None or now < end:
        return TaskView(record, Status.PROCESSING, start, None, "", 0, None)
    if record.failure is not None:
        return TaskView(record, Status.FAILED, start, end, "", 0, record.failure)
    return TaskView(record, Status.COMPLETED, start, end, video_url(record), record.cost, None)


def transitions(record: TaskRecord) -> list[tuple[int, Status]]:
    """Every status change the record will make, as (instant, new status), in order."""
    if record.cancelled_at is not None:
        return [(record.created_at, Status.PENDING), (record.cancelled_at, Status.CANCELLED)]
    steps = [(record.created_at, Status.PENDING)]
    if record.start_at is not None:
        steps.append((record.start_at, Status.PROCESSING))
    end = record.end_at
    if end is not None:
        steps.append((end, Status.FAILED if record.failure else Status.COMPLETED))
    return steps
