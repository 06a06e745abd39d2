"""The fake's state and verbs. HTTP handlers call one verb each; errors are exceptions.

All state lives here: the store, the clock, the seeded random source, the price table and the
journal. Task status is never stored; :func:`lifecycle.view` derives it from the clock.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from mock_server.domain import lifecycle, timing
from mock_server.domain.clock import Clock, ManualClock, SystemClock, to_ns
from mock_server.domain.errors import NotCancellable, TaskNotFound, Unauthorized
from mock_server.domain.journal import Journal
from mock_server.domain.models import Failure, Status, TaskRecord, TaskView, WebhookTarget
from mock_server.domain.observers import BackendObserver
from mock_server.domain.pricing import PriceTable
from mock_server.domain.store import MemoryStore, TaskStore
from mock_server.settings import Settings


def echo_json(value: object) -> str:
    """Compact JSON with sorted keys, as Go marshals a map; lone surrogates stay escaped."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return text


def config_echo(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """``config`` as PiAPI's struct echoes it: unknown keys dropped, absent strings ``""``."""
    config = config or {}
    hook = config.get("webhook_config") or {}
    return {
        "service_mode": config.get("service_mode", ""),
        "webhook_config": {"endpoint": hook.get("endpoint", ""), "secret": hook.get("secret", "")},
    }


class Backend:
    """Everything the fake knows, and the verbs the API and the control plane call."""

    def __init__(
        self,
        settings: Settings | None = None,
        clock: Clock | None = None,
        store: TaskStore | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.clock: Clock = clock or SystemClock(self.settings.speed)
        self.store: TaskStore = store or MemoryStore()
        self.prices = PriceTable.load(self.settings.price_table)
        self.journal = Journal(self.settings.journal_size)
        self.cancel_status = Status(self.settings.cancel_status)
        self.observers: list[BackendObserver] = []
        self.rng = random.Random(self.settings.seed)

    # -- auth -------------------------------------------------------------------------------

    def authenticate(self, key: str | None) -> str:
        """The caller's key, or :class:`Unauthorized`."""
        if key is None or not key.strip():
            raise Unauthorized("Unauthorized: missing x-api-key header")
        if self.settings.api_keys and key not in self.settings.api_keys:
            raise Unauthorized("Unauthorized: invalid api key")
        return key

    # -- the faked API ----------------------------------------------------------------------

    def create(self, owner: str, body: Mapping[str, Any], base_url: str) -> TaskView:
        """Store a new task from a contract-valid body; it starts ``pending``."""
        task_input: Mapping[str, Any] = body["input"]
        config = config_echo(body.get("config"))
        now = self.clock.now()
        plan = timing.draw(self.rng, task_input)
        record = TaskRecord(
            task_id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            owner=owner,
            model=str(body["model"]),
            task_type=str(body["task_type"]),
            input_json=echo_json(task_input),
            config_json=echo_json(config),
            aspect_ratio=str(task_input.get("aspect_ratio", "16:9")),
            cost=self.prices.points(task_input),
            private_pool=config["service_mode"] == "private",
            base_url=self.settings.public_url.rstrip("/") or base_url.rstrip("/"),
            created_at=now,
            start_at=now + plan.pending_ns,
            run_ns=plan.run_ns,
            webhook=_webhook_target(config),
        )
        self.store.add(record)
        for observer in self.observers:
            observer.task_created(record)
        return self.view(record)

    def get(self, owner: str, task_id: str) -> TaskView:
        """The task as it is now, for its owner only."""
        return self.view(self.record(owner, task_id))

    def cancel(self, owner: str, task_id: str) -> str:
        """Cancel a pending task; the answer's message."""
        record = self.record(owner, task_id)
        current = self.view(record)
        if current.status is not Status.PENDING:
            raise NotCancellable(
                f"task {task_id} is {current.status.value}: only pending tasks can be canceled"
            )
        record.cancelled_at = self.clock.now()
        self._changed(record)
        return f"task {task_id} canceled"

    def account(self, owner: str) -> dict[str, Any]:
        """A simulated ``/account/info`` for ``owner``."""
        now = self.clock.now()
        frozen = used = 0
        for record in self.records(owner):
            current = lifecycle.view(record, now, self.cancel_status)
            if current.status is Status.COMPLETED:
                used += record.cost
            elif not current.status.terminal:
                frozen += record.cost
        points = self.prices.points_per_usd
        credits = round(self.settings.credits_usd * points) if self.settings.credits_usd else 0
        remain = credits - used - frozen if credits else 0
        return {
            "account_name": "piapi-mock",
            "plan": "simulated",
            "equivalent_in_usd": round(remain / points, 4) if credits else 0,
            "unlimited": not credits,
            "wallet": {"point_remain": remain, "point_frozen": frozen, "point_used": used},
            "max_concurrent_task_count": self.settings.max_concurrent,
        }

    # -- shared helpers ---------------------------------------------------------------------

    def record(self, owner: str, task_id: str) -> TaskRecord:
        """The stored record if ``owner`` may see it and it is within retention."""
        record = self.store.get(task_id)
        if record is None or record.owner != owner or self._expired(record):
            raise TaskNotFound(task_id)
        return record

    def records(self, owner: str | None = None) -> Iterator[TaskRecord]:
        """Stored records (of ``owner`` if given), oldest first, within retention."""
        for record in self.store:
            if (owner is None or record.owner == owner) and not self._expired(record):
                yield record

    def view(self, record: TaskRecord) -> TaskView:
        """``record`` as it is now."""
        return lifecycle.view(record, self.clock.now(), self.cancel_status)

    def _expired(self, record: TaskRecord) -> bool:
        retention = self.settings.retention
        return bool(retention) and self.clock.now() - record.created_at > to_ns(retention)

    def _changed(self, record: TaskRecord) -> None:
        for observer in self.observers:
            observer.task_changed(record)

    # -- control ----------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move virtual time forward and let observers catch up."""
        self.clock.advance(seconds)
        for observer in self.observers:
            observer.clock_moved()

    def set_speed(self, speed: float) -> None:
        """Change the clock's speed (system clock only)."""
        self.clock.set_speed(speed)
        for observer in self.observers:
            observer.clock_moved()

    def reset(self, seed: int | None = None) -> None:
        """Forget every task and log entry; re-seed the random source."""
        if seed is not None:
            self.settings = self.settings.replace(seed=seed)
        self.rng = random.Random(self.settings.seed)
        self.store.clear()
        self.journal.clear()
        for observer in self.observers:
            observer.reset()

    def fail(self, record: TaskRecord, failure: Failure) -> None:
        """Make ``record`` fail now (or when it would have ended, if that is later)."""
        now = self.clock.now()
        if record.start_at is None or record.start_at > now:
            record.start_at = now
        record.run_ns = max(0, now - record.start_at)
        record.failure = failure
        self._changed(record)


def manual_backend(settings: Settings | None = None) -> tuple[Backend, ManualClock]:
    """A backend on a manual clock (tests and in-process use)."""
    clock = ManualClock()
    return Backend(settings, clock=clock), clock


def _webhook_target(config: Mapping[str, Any]) -> WebhookTarget | None:
    hook = config["webhook_config"]
    if not hook["endpoint"]:
        return None
    return WebhookTarget(endpoint=hook["endpoint"], secret=hook["secret"])
