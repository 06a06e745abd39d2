"""Hooks through which other parts (the webhook dispatcher) learn what the backend did."""

from __future__ import annotations

from mock_server.domain.models import TaskRecord


class BackendObserver:
    """Base observer: every hook does nothing. Subclass and override what you need."""

    def task_created(self, record: TaskRecord) -> None:
        """A task was stored."""

    def task_changed(self, record: TaskRecord) -> None:
        """A task's schedule changed (cancelled, forced, started from the queue)."""

    def task_removed(self, record: TaskRecord) -> None:
        """A task left the store (retention, the store cap, or a create that failed)."""

    def clock_moved(self) -> None:
        """Virtual time jumped (advance, speed change)."""

    def reset(self) -> None:
        """Every task and log was forgotten."""

    async def start(self) -> None:
        """The server started (inside its event loop)."""

    async def stop(self) -> None:
        """The server is shutting down: finish or cancel background work."""
