"""Task records (what the fake stores) and task views (what a task looks like at an instant)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

#: A run that never ends: the task stays ``processing`` (the ``stuck`` outcome).
NEVER: Final = 2**62


class Status(StrEnum):
    """Task statuses, lowercase as every Kling omni example and PiAPI's clients use."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """Whether the task can no longer change."""
        return self in TERMINAL


TERMINAL: Final = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a task failed: ``error.code``, ``error.message`` and ``error.raw_message``."""

    code: int
    message: str
    raw_message: str = ""


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """Where a task's notifications go (``config.webhook_config``)."""

    endpoint: str
    secret: str


@dataclass(slots=True)
class TaskRecord:
    """A stored task. Its status is never stored: it follows from these fields and the clock.

    Times are virtual Unix nanoseconds. ``start_at`` is None while the task waits for a
    concurrency slot; ``run_ns`` is how long processing takes (``NEVER`` for a stuck task).
    """

    task_id: str
    owner: str
    model: str
    task_type: str
    input_json: str
    config_json: str
    aspect_ratio: str
    cost: int
    private_pool: bool
    base_url: str
    created_at: int
    start_at: int | None
    run_ns: int
    failure: Failure | None = None
    cancelled_at: int | None = None
    webhook: WebhookTarget | None = None

    @property
    def end_at(self) -> int | None:
        """When processing ends (None while not started)."""
        if self.start_at is None or self.run_ns >= NEVER:
            return None
        return self.start_at + self.run_ns


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task at one instant: what create, get and webhooks show."""

    record: TaskRecord
    status: Status
    started_at: int | None
    ended_at: int | None
    video_url: str
    consume: int
    error: Failure | None

    @property
    def task_id(self) -> str:
        """The task's id."""
        return self.record.task_id
