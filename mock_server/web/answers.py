"""GET answers of finished tasks, kept: a completed or failed task's answer never changes.

A task's answer depends on its record and the clock only while it runs; once it shows a
terminal status its body is fixed (forcing or cancelling an ended task is refused, and an
expired one answers 404 before this is asked). The bytes are kept by task id with the record
and status they were built from, and served again only for that very record object in that
status, so a reset (new records under the same seeded ids) or a shared store (a fresh record
per read) simply builds them anew.
"""

from __future__ import annotations

from typing import Final

from mock_server.domain.models import Status, TaskRecord, TaskView
from mock_server.domain.render import envelope_json

#: Finished tasks whose answer is kept (the oldest goes first).
KEPT: Final = 4096


class FinishedAnswers:
    """The success envelope of a task view, as bytes, kept once the task has ended."""

    __slots__ = ("_found",)

    def __init__(self) -> None:
        self._found: dict[str, tuple[TaskRecord, Status, bytes]] = {}

    def answer(self, view: TaskView) -> bytes:
        """``envelope_json(view)`` encoded (kept when ``view`` is terminal)."""
        if not view.status.terminal:
            return envelope_json(view).encode()
        found = self._found.get(view.task_id)
        if found is not None and found[0] is view.record and found[1] is view.status:
            return found[2]
        body = envelope_json(view).encode()
        kept = self._found
        if len(kept) >= KEPT and view.task_id not in kept:
            del kept[next(iter(kept))]
        kept[view.task_id] = (view.record, view.status, body)
        return body

    def __len__(self) -> int:
        return len(self._found)
