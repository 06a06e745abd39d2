"""Task records (what the fake stores) and task views (what a task looks like at an instant)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NamedTuple

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


def _shared(text: str) -> str:
    """One copy of ``text`` for the whole process (only exact ``str`` can be interned)."""
    return sys.intern(text) if type(text) is str else text


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
    #: The pack variant that decided price, media and output (``<pack>@<digest>/<variant>``;
    #: "" is omni 3.0), and what the task makes (``kind/count/WxH/seconds``).
    variant: str = ""
    media: str = ""
    #: Charged at create (``usage.charge: create``, Seedance and Kling turbo), not at the end.
    prepaid: bool = False

    def __post_init__(self) -> None:
        # Strings most tasks share are kept once (about 300 B less a task at 100,000 tasks).
        self.owner = _shared(self.owner)
        self.model = _shared(self.model)
        self.task_type = _shared(self.task_type)
        self.config_json = _shared(self.config_json)
        self.aspect_ratio = _shared(self.aspect_ratio)
        self.base_url = _shared(self.base_url)
        self.variant = _shared(self.variant)
        self.media = _shared(self.media)

    @property
    def end_at(self) -> int | None:
        """When processing ends (None while not started)."""
        if self.start_at is None or self.run_ns >= NEVER:
            return None
        return self.start_at + self.run_ns


class TaskView(NamedTuple):
    """A task at one instant: what create, get and webhooks show (a cheap named tuple)."""

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
