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
        # Inline rather than a helper per field: every create builds a record.
        intern, text = sys.intern, str
        if type(self.owner) is text:  # exact str only: sys.intern refuses subclasses
            self.owner = intern(self.owner)
        if type(self.model) is text:
            self.model = intern(self.model)
        if type(self.task_type) is text:
            self.task_type = intern(self.task_type)
        if type(self.config_json) is text:
            self.config_json = intern(self.config_json)
        if type(self.aspect_ratio) is text:
            self.aspect_ratio = intern(self.aspect_ratio)
        if type(self.base_url) is text:
            self.base_url = intern(self.base_url)
        if type(self.variant) is text:
            self.variant = intern(self.variant)
        if type(self.media) is text:
            self.media = intern(self.media)

    @property
    def end_at(self) -> int | None:
        """When processing ends (None while not started)."""
        if self.start_at is None or self.run_ns >= NEVER:
            return None
        return self.start_at + self.run_ns


def stored_record(
    task_id: str,
    owner: str,
    model: str,
    task_type: str,
    input_json: str,
    config_json: str,
    aspect_ratio: str,
    cost: int,
    private_pool: bool,
    base_url: str,
    created_at: int,
    start_at: int | None,
    run_ns: int,
    failure: Failure | None,
    cancelled_at: int | None,
    webhook: WebhookTarget | None,
    variant: str,
    media: str,
    prepaid: bool,
) -> TaskRecord:
    """``TaskRecord(...)`` of these values without ``__post_init__``'s interning, for a caller
    whose strings already are the shared copies: the create path interns the key once per
    create and a prepared body its own strings once (``tests/test_hot_records.py`` checks both
    records are equal and share the same strings)."""
    record: TaskRecord = object.__new__(TaskRecord)
    record.task_id = task_id
    record.owner = owner
    record.model = model
    record.task_type = task_type
    record.input_json = input_json
    record.config_json = config_json
    record.aspect_ratio = aspect_ratio
    record.cost = cost
    record.private_pool = private_pool
    record.base_url = base_url
    record.created_at = created_at
    record.start_at = start_at
    record.run_ns = run_ns
    record.failure = failure
    record.cancelled_at = cancelled_at
    record.webhook = webhook
    record.variant = variant
    record.media = media
    record.prepaid = prepaid
    return record


def shared_text(text: str) -> str:
    """The process's one copy of ``text`` (``sys.intern``; a ``str`` subclass stays as it is)."""
    return sys.intern(text) if type(text) is str else text


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
