"""Where task records live. A small interface, so a shared store can replace the dict later."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from mock_server.domain.models import TaskRecord


class TaskStore(Protocol):
    """Storage of task records by id."""

    def add(self, record: TaskRecord) -> None:
        """Store a new record."""
        ...

    def get(self, task_id: str) -> TaskRecord | None:
        """The record, or None."""
        ...

    def remove(self, task_id: str) -> None:
        """Forget a record (no error if absent)."""
        ...

    def __iter__(self) -> Iterator[TaskRecord]:
        """Every record, oldest first."""
        ...

    def __len__(self) -> int:
        """How many records are stored."""
        ...

    def clear(self) -> None:
        """Forget every record."""
        ...


class MemoryStore:
    """Records in an insertion-ordered dict (oldest first)."""

    def __init__(self) -> None:
        self._records: dict[str, TaskRecord] = {}

    def add(self, record: TaskRecord) -> None:
        self._records[record.task_id] = record

    def get(self, task_id: str) -> TaskRecord | None:
        return self._records.get(task_id)

    def remove(self, task_id: str) -> None:
        self._records.pop(task_id, None)

    def __iter__(self) -> Iterator[TaskRecord]:
        return iter(list(self._records.values()))

    def __len__(self) -> int:
        return len(self._records)

    def clear(self) -> None:
        self._records.clear()
