"""Answers built once: a finished task's GET answer, and a create's answer per body.

GET: a completed or failed task's answer never changes.

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
from mock_server.domain.prepared import Prepared
from mock_server.domain.render import envelope_json, rfc3339_once

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

    def kept(self, record: TaskRecord) -> bytes | None:
        """The answer kept for this very record object (None: not kept). Kept means ended:
        an ended task stays as it is, so no view need be built to know it."""
        found = self._found.get(record.task_id)
        if found is not None and found[0] is record:
            return found[2]
        return None

    def __len__(self) -> int:
        return len(self._found)


class CreatedAnswers:
    """A create's answer as a template per prepared body: two creates of one body, both still
    pending, differ only in the task id and the creation instant.

    The first create of a body renders the envelope and cuts it at those two values (when each
    occurs once, id first); the next ones of the same :class:`Prepared` object and base URL
    fill them in. Any other create (not pending, a started or failed view) is rendered.
    """

    __slots__ = ("_found",)

    def __init__(self) -> None:
        self._found: dict[int, tuple[Prepared, str, str, str, str]] = {}

    def answer(self, prepared: Prepared, view: TaskView) -> str:
        """``envelope_json(view)`` of a create from ``prepared``."""
        if view.status is not Status.PENDING or view.error is not None or view.started_at:
            return envelope_json(view)
        record = view.record
        created = rfc3339_once(record.created_at)
        found = self._found.get(id(prepared))
        if found is not None and found[0] is prepared and found[1] == record.base_url:
            return f"{found[2]}{record.task_id}{found[3]}{created}{found[4]}"
        text = envelope_json(view)
        head, _, rest = text.partition(record.task_id)
        mid, _, tail = rest.partition(created)
        if rest and tail and record.task_id not in rest and created not in head + tail:
            kept = self._found
            if len(kept) >= KEPT:
                del kept[next(iter(kept))]
            kept[id(prepared)] = (prepared, record.base_url, head, mid, tail)
        return text
