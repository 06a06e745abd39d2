"""The suite's phases, in order. Each takes the shared :class:`~contract_tests.suite.Run`.

The free ones create nothing (an invalid request the server wrongly accepts is cancelled at
once, so a real account is not charged for the server's mistake).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from hypothesis import reject
from hypothesis import strategies as st

from contract_tests.checks import task_of
from contract_tests.drawn_tasks import task_ids
from contract_tests.endpoint import NO_KEY, NOWHERE, Exchange
from contract_tests.invalid import MUTATIONS, Invalid, invalid_requests
from contract_tests.prices import load_prices
from contract_tests.strategies import json_values, valid_requests

if TYPE_CHECKING:
    from contract_tests.suite import Run

SEED_BODY: Final = {
    "model": "kling",
    "task_type": "omni_video_generation",
    "input": {"prompt": "a dog on a beach", "version": "3.0", "duration": 3},
}


def _envelope(run: Run, exchange: Exchange, kind: str = "response") -> None:
    run.checker("not_server_error", exchange)
    run.checker("code_matches_status", exchange)
    run.checker("json_content_type", exchange)
    run.checker("envelope_valid", exchange, kind)


def auth(run: Run) -> None:
    """Create, get and cancel without a key: 401 envelopes."""

    def body(case: str) -> None:
        if case == "create":
            exchange = run.endpoint.create(SEED_BODY, key=NO_KEY)
            _undo(run, exchange)
        else:
            method = "GET" if case == "get" else "DELETE"
            exchange = run.endpoint.send(method, "/api/v1/task/contract-no-key", key=NO_KEY)
        _envelope(run, exchange)
        run.checker("auth_required", exchange)

    run.hypothesis("auth", st.sampled_from(["create", "get", "cancel"]), body)


def unknown_ids(run: Run) -> None:
    """GET and DELETE of ids nobody created: 404 envelopes."""

    def body(task_id: str) -> None:
        for exchange in (run.endpoint.get(task_id), run.endpoint.cancel(task_id)):
            _envelope(run, exchange)
            run.checker("unknown_task_not_found", exchange)

    run.hypothesis("unknown_ids", task_ids(), body)


def invalid(run: Run) -> None:
    """Each request breaking one rule (every rule, in turn): a 4xx envelope naming the field."""

    def body(case: Invalid) -> None:
        exchange = run.endpoint.create(case.body)
        _undo(run, exchange)
        run.checker("not_server_error", exchange)
        run.checker("invalid_rejected", exchange, case)
        _envelope(run, exchange)
        run.checker("error_names_field", exchange, case)

    each = max(2, -(-run.options.max_examples // len(MUTATIONS)))
    result = None
    for mutation in MUTATIONS:
        strategy = invalid_requests((mutation.name,))
        result = run.hypothesis("invalid_requests", strategy, body, each, result)


def junk(run: Run) -> None:
    """Bodies that are not create requests at all (any JSON, any bytes): a 4xx, never a 5xx."""
    bodies = st.one_of(json_values(), st.binary(max_size=64))

    def body(value: Any) -> None:
        if isinstance(value, bytes):
            exchange = run.endpoint.send("POST", "/api/v1/task", raw=value)
        else:
            exchange = run.endpoint.create(value)
        _undo(run, exchange)
        run.checker("not_server_error", exchange)
        run.checker("junk_rejected", exchange)
        _envelope(run, exchange)

    run.hypothesis("junk_bodies", bodies, body)


def valid(run: Run) -> None:
    """Valid requests: accepted, echoed, priced; then cancelled while pending."""
    if not run.paid:
        run.skipped("valid_requests", "no control plane; allow spending to create tasks")
        return
    prices = load_prices(run.options.price_table)
    hooks = (run.sink.url,) if run.sink else ((NOWHERE,) if run.report.control else ("",))

    limit = run.budget.usd / 2 if run.budget.usd is not None else None

    def body(request: dict[str, Any]) -> None:
        price = prices.usd(request["input"])
        if limit is not None and run.budget.spent + price > limit:
            reject()  # half the money is kept for the lifecycle
        if not run.budget.spend(price):
            reject()
        exchange = run.endpoint.create(request)
        run.checker("not_server_error", exchange)
        run.checker("valid_accepted", exchange)
        _envelope(run, exchange)
        run.checker("created_pending", exchange)
        run.checker("create_echoes", exchange, request)
        run.checker("frozen_is_price", exchange, request, prices)
        task_id = str(task_of(exchange)["task_id"])
        cancel = run.endpoint.cancel(task_id)
        _envelope(run, cancel, "cancel")
        after = run.endpoint.get(task_id)
        _envelope(run, after)
        run.checker("cancel_only_pending", cancel, task_of(exchange).get("status"), after)

    run.hypothesis("valid_requests", valid_requests(None, hooks), body)


def lifecycle(run: Run) -> None:
    """The state machine: create, poll, cancel, peek, advance, webhooks."""
    if not run.paid:
        run.skipped("lifecycle", "no control plane; allow spending to create tasks")
        return
    if not run.budget.can_spend():
        run.skipped("lifecycle", "the spending budget is used up")
        return
    run.machine("lifecycle")


def _undo(run: Run, exchange: Exchange) -> None:
    """A request that should have failed created a task: cancel it before reporting."""
    task_id = task_of(exchange).get("task_id") if exchange.status == 200 else None
    if task_id:
        run.endpoint.cancel(str(task_id))


PHASES: Final[dict[str, Callable[[Run], None]]] = {
    "auth": auth,
    "unknown_ids": unknown_ids,
    "invalid_requests": invalid,
    "junk_bodies": junk,
    "valid_requests": valid,
    "lifecycle": lifecycle,
}
