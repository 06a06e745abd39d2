"""The lifecycle state machine: create, poll, cancel, peek with another key, move time, and
receive webhooks, with the lifecycle invariants checked after every step.

:func:`lifecycle_machine` builds a :class:`~hypothesis.stateful.RuleBasedStateMachine` bound
to one :class:`Endpoint`. Time moves through ``POST /_mock/clock/advance`` when the target has
the control plane, otherwise by waiting within ``wait_budget`` seconds. Creating tasks spends
against a :class:`Budget` (unlimited on the fake). The webhook rule runs only with a
:class:`WebhookSink` and a target serving ``GET /_mock/webhooks``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    precondition,
    rule,
)

from contract_tests.checks import TERMINAL, Checker, task_of
from contract_tests.drawn_tasks import new_task_id
from contract_tests.endpoint import NOWHERE, Endpoint, Exchange
from contract_tests.failures import LifecycleFailure
from contract_tests.hooks import WebhookSink
from contract_tests.prices import Prices
from contract_tests.strategies import valid_requests

History = list[tuple[Exchange, dict[str, Any]]]
#: Tasks per run of the machine: few, so steps go to polling and moving time.
MAX_TASKS = 3
#: Seconds that end any task of the fake (renders take 70-140 virtual seconds).
LONG_WAIT = 300.0
#: Seconds to wait for the fake's queued webhook deliveries to land.
SETTLE_SECONDS = 3.0
ADVANCES = (0.5, 1.0, 5.0, 30.0, 90.0, 150.0, 300.0)


@dataclass
class Charge:
    """A task the run created: where, what it costs (USD), and whether a cancel worked."""

    task_id: str
    phase: str
    usd: Decimal
    cancelled: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The JSON report's form."""
        return {
            "task_id": self.task_id,
            "phase": self.phase,
            "price_usd": str(self.usd),
            "cancelled": self.cancelled,
            "billed_usd": "0" if self.cancelled else str(self.usd),
        }


@dataclass
class Budget:
    """Money (USD) the run may spend creating tasks, and seconds it may wait; None = unlimited.

    :meth:`spend` reserves a create's price *before* it is sent (refused if it would exceed
    ``usd``); :meth:`refund` gives it back when nothing was created; :meth:`charge` records a
    created task and :meth:`cancelled` releases its price once a cancel worked. ``spent`` is
    therefore what the run may have been billed: every task not cancelled, in full.
    """

    usd: Decimal | None = None
    wait_seconds: float = 0.0
    spent: Decimal = Decimal(0)
    charges: list[Charge] = field(default_factory=list)

    def spend(self, usd: Decimal) -> bool:
        """Take ``usd`` from the budget if it is there."""
        if self.usd is not None and self.spent + usd > self.usd:
            return False
        self.spent += usd
        return True

    def refund(self, usd: Decimal) -> None:
        """Give back a reservation (the request created nothing)."""
        self.spent -= usd

    def charge(self, task_id: str, phase: str, usd: Decimal) -> None:
        """Record a created task (its price stays spent until :meth:`cancelled`)."""
        self.charges.append(Charge(task_id, phase, usd))

    def cancelled(self, task_id: str) -> None:
        """A cancel of ``task_id`` worked: it is not billed."""
        for item in self.charges:
            if item.task_id == task_id and not item.cancelled:
                item.cancelled = True
                self.spent -= item.usd

    def left(self) -> Decimal | None:
        """What may still be spent (None = unlimited)."""
        return None if self.usd is None else self.usd - self.spent

    def can_spend(self, usd: Decimal = Decimal(0)) -> bool:
        """Whether a task of ``usd`` (any task if 0) may still be created."""
        left = self.left()
        return left is None or (left > usd if usd == 0 else left >= usd)


@dataclass
class MachineConfig:
    """What a lifecycle machine is bound to."""

    endpoint: Endpoint
    checker: Checker
    prices: Prices
    budget: Budget
    sink: WebhookSink | None = None
    #: How many runs of the machine started (examples, shrinking included).
    runs: int = 0
    #: Every task object GET showed, by task id and status (webhooks are compared to these).
    snapshots: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: How many of the sink's webhooks were checked already.
    hooks_checked: int = 0
    #: Whether the target was seen delivering to the sink (set by :meth:`settle_webhooks`).
    delivering: bool = False

    def check_webhooks(self) -> None:
        """Check every webhook that arrived since the last call, for tasks the run created."""
        if self.sink is None:
            return
        arrived = self.sink.wait_for(0, timeout=0)
        for headers, body in arrived[self.hooks_checked :]:
            self.hooks_checked += 1
            data = body.get("data") if isinstance(body, dict) else None
            task_id = str(data.get("task_id")) if isinstance(data, dict) else ""
            if task_id in self.snapshots:
                self.checker("webhook_matches_get", body, self.snapshots[task_id])
                self.checker("webhook_secret_header", headers, body)

    def settle_webhooks(self) -> None:
        """Wait (bounded) for the webhook of every terminal status GET showed; check them all.

        The fake delivers in the background. Terminal events are sent in every webhook mode,
        so the wait ends as soon as they are in; the other events are checked if they came.
        """
        self.delivering = self.sink is not None and self._delivering()
        if self.sink is not None and self.delivering:
            hooked = {t for t, seen in self.snapshots.items() if self._hooked(seen)}
            expected = {(t, s) for t in hooked for s in self.snapshots[t] if s in TERMINAL}
            self.sink.wait_for_events(expected, SETTLE_SECONDS)
        self.check_webhooks()

    def _delivering(self) -> bool:
        """Whether the target sends webhooks at all (in-process, without a lifespan, not)."""
        assert self.sink is not None
        attempts = self.endpoint.webhook_log().get("attempts", [])
        return bool(self.sink.bodies) or any(a.get("url") == self.sink.url for a in attempts)

    def _hooked(self, seen: dict[str, dict[str, Any]]) -> bool:
        task = next(iter(seen.values()))
        endpoint = task.get("config", {}).get("webhook_config", {}).get("endpoint")
        return self.sink is not None and endpoint == self.sink.url

    @property
    def webhooks(self) -> tuple[str, ...]:
        """Endpoints the drawn requests may name (none on a live server without a sink)."""
        if self.sink is not None:
            return (self.sink.url,)
        return (NOWHERE,) if self.endpoint.has_control else ("",)


def _hooked_to(body: dict[str, Any], url: str) -> dict[str, Any]:
    """``body`` with ``config.webhook_config.endpoint`` set to ``url``.

    A secret drawn (even ``""``) is kept; where none was drawn one is set, so the header
    check sees tasks both with and without a secret.
    """
    config = dict(body.get("config") or {})
    hook = {"secret": "contract-kit-secret", **(config.get("webhook_config") or {})}
    config["webhook_config"] = {**hook, "endpoint": url}
    return {**body, "config": config}


def lifecycle_machine(config: MachineConfig) -> type[RuleBasedStateMachine]:
    """A state machine class bound to ``config`` (run it with ``run_state_machine_as_test``)."""
    control = config.endpoint.has_control
    hooks = config.sink is not None and config.endpoint.has_webhook_log
    requests = valid_requests(None, config.webhooks)

    class Lifecycle(RuleBasedStateMachine):
        tasks = Bundle("tasks")

        def __init__(self) -> None:
            super().__init__()
            config.runs += 1
            self.histories: dict[str, History] = {}
            self.fetched: set[str] = set()
            self.checked_hooks = 0

        def _watch(self, task_id: str, exchange: Exchange) -> None:
            history = self.histories.setdefault(task_id, [])
            task = task_of(exchange)
            history.append((exchange, task))
            config.snapshots.setdefault(task_id, {}).setdefault(str(task.get("status")), task)
            config.checker("lifecycle_forward", history)

        def _envelope(self, exchange: Exchange, kind: str = "response") -> None:
            config.checker("not_server_error", exchange)
            config.checker("code_matches_status", exchange)
            config.checker("json_content_type", exchange)
            config.checker("envelope_valid", exchange, kind)

        @precondition(
            lambda self: (
                len(self.histories) < MAX_TASKS and config.budget.can_spend(config.prices.cheapest)
            )
        )
        @rule(target=tasks, body=requests)
        def create(self, body: dict[str, Any]) -> Any:
            price = config.prices.usd(body["input"])
            if not config.budget.spend(price):
                return multiple()
            if config.sink is not None:  # every task reports to the sink: webhooks get checked
                body = _hooked_to(body, config.sink.url)
            exchange = config.endpoint.create(body)
            created = str(task_of(exchange).get("task_id") or "") if exchange.status == 200 else ""
            if created:
                config.budget.charge(created, "lifecycle", price)
            else:
                config.budget.refund(price)
            if not config.checker("valid_accepted", exchange):
                return multiple()
            self._envelope(exchange)
            config.checker("created_pending", exchange)
            config.checker("create_echoes", exchange, body)
            config.checker("frozen_is_price", exchange, body, config.prices)
            task_id = str(task_of(exchange)["task_id"])
            self._watch(task_id, exchange)
            return task_id

        @rule(task_id=tasks)
        def poll(self, task_id: str) -> None:
            exchange = config.endpoint.get(task_id)
            self._envelope(exchange)
            got = task_of(exchange).get("task_id")
            if got != task_id:
                raise LifecycleFailure(
                    "lifecycle_forward", "task id", f"asked {task_id}, got {got}", exchange
                )
            self._watch(task_id, exchange)
            config.checker("completed_consumes_price", exchange)
            if task_of(exchange).get("status") == "completed" and task_id not in self.fetched:
                self.fetched.add(task_id)
                config.checker("video_fetchable", exchange, config.endpoint.fetch)

        @rule(task_id=consumes(tasks))
        def cancel(self, task_id: str) -> None:
            # Statuses only move forward, so what GET shows just before the cancel is a
            # lower bound of the status the cancel meets: no race with a moving clock.
            self.poll(task_id)
            before = self.histories[task_id][-1][1].get("status")
            exchange = config.endpoint.cancel(task_id)
            if exchange.status == 200:
                config.budget.cancelled(task_id)
            self._envelope(exchange, "cancel")
            after = config.endpoint.get(task_id)
            self._envelope(after)
            self._watch(task_id, after)  # a status gone back is named as such, first
            config.checker("cancel_only_pending", exchange, before, after)

        @precondition(lambda self: control or config.budget.wait_seconds > 0)
        @rule(task_id=tasks)
        def wait_and_poll(self, task_id: str) -> None:
            """Let a task run to its end (or the budget's), then look."""
            self.advance(LONG_WAIT)
            self.poll(task_id)

        @rule(task_id=tasks)
        def peek_with_another_key(self, task_id: str) -> None:
            other = config.endpoint.other_key
            for exchange in (
                config.endpoint.get(task_id, other),
                config.endpoint.cancel(task_id, other),
            ):
                config.checker("not_server_error", exchange)
                config.checker("others_cannot_see", exchange)

        @precondition(lambda self: control or (self.histories and config.budget.wait_seconds > 0))
        @rule(seconds=st.sampled_from(ADVANCES))
        def advance(self, seconds: float) -> None:
            if control:
                config.endpoint.advance(seconds)
                return
            pause = min(seconds, config.budget.wait_seconds)
            config.budget.wait_seconds -= pause
            time.sleep(pause)

        @rule()
        def look_up_unknown_task(self) -> None:
            """Always possible (and free), so a run whose budget is spent still progresses."""
            exchange = config.endpoint.get(new_task_id())
            self._envelope(exchange)
            config.checker("unknown_task_not_found", exchange)

        @precondition(lambda self: hooks)
        @rule()
        def receive_webhooks(self) -> None:
            config.check_webhooks()

        @invariant()
        def histories_move_forward(self) -> None:
            for history in self.histories.values():
                config.checker("lifecycle_forward", history)

    Lifecycle.__name__ = Lifecycle.__qualname__ = "Lifecycle"
    return Lifecycle
