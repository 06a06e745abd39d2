"""The suite's phases, in order. Each takes the shared :class:`~contract_tests.suite.Run`.

The free ones create nothing on a server that keeps PiAPI's documented contract (an invalid
request the server wrongly accepts is cancelled at once, so a real account is not charged for
the server's mistake). Mutations of guessed rules are not free: a server that does not share
the guess accepts them, so without the control plane they need a budget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from hypothesis import reject
from hypothesis import strategies as st

from contract_tests import packs as kit_packs
from contract_tests.checks import task_of
from contract_tests.drawn_tasks import task_ids
from contract_tests.endpoint import NO_KEY, NOWHERE, Exchange
from contract_tests.failures import ContractFailure
from contract_tests.invalid import MUTATIONS, Invalid, grade, invalid_requests
from contract_tests.report import Finding, PhaseResult
from contract_tests.strategies import json_values, valid_requests
from contract_tests.verdicts import PhaseStop

if TYPE_CHECKING:
    from contract_tests.suite import Run

SEED_BODY: Final = {
    "model": "kling",
    "task_type": "omni_video_generation",
    "input": {"prompt": "a dog on a beach", "version": "3.0", "duration": 3},
}


def task_types(paths: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The ``MODEL/TASK_TYPE`` pairs the kit can test (every pack)."""
    return kit_packs.pairs(paths)


#: Why nothing is created without the control plane and a budget.
UNPAID: Final = "no control plane and no --allow-spend-usd: no task may be created"
_GUESS_UNPAID: Final = (
    "breaks a guessed rule ({reason}); a server without it would create a billable task: "
    "needs --allow-spend-usd"
)


def _omni(run: Run) -> bool:
    """Whether the omni phases run (no ``--task-type``, or it names the omni pair)."""
    chosen = run.options.task_types
    return bool(not chosen or kit_packs.OMNI in chosen)


#: Checks only the paid phases run (the reason they did not is the phase's).
PAID_CHECKS: Final = (
    "valid_accepted",
    "created_pending",
    "create_echoes",
    "frozen_is_price",
    "cancel_only_pending",
    "completed_consumes_price",
    "video_fetchable",
    "lifecycle_forward",
    "others_cannot_see",
)


def _envelope(run: Run, exchange: Exchange, kind: str = "response") -> None:
    run.checker("not_server_error", exchange)
    run.checker("code_matches_status", exchange)
    run.checker("json_content_type", exchange)
    run.checker("envelope_valid", exchange, kind)


def auth(run: Run) -> None:
    """Create, get and cancel without a key: 401 envelopes."""

    def body(case: str) -> None:
        if case == "create":
            exchange = run.create(SEED_BODY, key=NO_KEY, free=True)
            run.undo(exchange)
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
    """Each request breaking one rule (every rule, in turn): a 4xx envelope naming the field.

    A mutation of a guessed rule is sent only where it cannot cost money unasked (the fake's
    control plane, or a budget); the server accepting it is drift, not a violation.
    """

    def body(case: Invalid) -> None:
        exchange = run.create(case.body, free=not case.grade.is_guess)
        run.undo(exchange)
        run.checker("not_server_error", exchange)
        if not run.checker("invalid_rejected", exchange, case):
            return
        _envelope(run, exchange)
        run.checker("error_names_field", exchange, case)

    if not _omni(run):
        run.skipped("invalid_requests", f"--task-type does not include {kit_packs.OMNI}")
        return
    each = max(2, -(-run.options.max_examples // len(MUTATIONS)))
    result = None
    for mutation in MUTATIONS:
        rule = grade(mutation)
        if rule.is_guess and not run.paid:
            run.not_run(
                "invalid_requests",
                f"mutation '{mutation.name}' ({mutation.pointer} [{mutation.rule}])",
                _GUESS_UNPAID.format(reason=rule.source),
            )
            continue
        strategy = invalid_requests((mutation.name,))
        result = run.hypothesis("invalid_requests", strategy, body, each, result)
        if result.note.startswith("ended early"):  # this mutation only: the next may be free
            what = f"mutation '{mutation.name}' ({mutation.pointer} [{mutation.rule}])"
            run.not_run("invalid_requests", what, result.note)
            result.note = ""


def junk(run: Run) -> None:
    """Bodies that are not create requests at all (any JSON, any bytes): a 4xx, never a 5xx."""
    bodies = st.one_of(json_values(), st.binary(max_size=64))

    def body(value: Any) -> None:
        if isinstance(value, bytes):
            exchange = run.endpoint.send("POST", "/api/v1/task", raw=value)
        else:
            exchange = run.create(value, free=True)
        run.undo(exchange)
        run.checker("not_server_error", exchange)
        if run.checker("junk_rejected", exchange):
            _envelope(run, exchange)

    run.hypothesis("junk_bodies", bodies, body)


def valid(run: Run) -> None:
    """Valid requests: accepted, echoed, priced; then cancelled while pending."""
    if not _omni(run):
        run.skipped("valid_requests", f"--task-type does not include {kit_packs.OMNI}")
        return
    if not run.paid:
        _unpaid(run, "valid_requests")
        return
    prices = run.prices
    hooks = (run.sink.url,) if run.sink else ((NOWHERE,) if run.report.control else ("",))
    limit = run.budget.usd / 2 if run.budget.usd is not None else None

    def body(request: dict[str, Any]) -> None:
        price = prices.usd(request["input"])
        if limit is not None and run.budget.spent + price > limit:
            if limit - run.budget.spent < prices.cheapest:
                raise PhaseStop("half the budget is spent (the rest is the lifecycle's)")
            reject()  # too dear for what is left: another draw may fit
        exchange = run.create(request)
        run.checker("not_server_error", exchange)
        if not run.checker("valid_accepted", exchange):
            return
        _envelope(run, exchange)
        run.checker("created_pending", exchange)
        run.checker("create_echoes", exchange, request)
        run.checker("frozen_is_price", exchange, request, prices)
        task_id = str(task_of(exchange)["task_id"])
        cancel = run.cancel(task_id)
        _envelope(run, cancel, "cancel")
        after = run.endpoint.get(task_id)
        _envelope(run, after)
        run.checker("cancel_only_pending", cancel, task_of(exchange).get("status"), after)

    run.hypothesis("valid_requests", valid_requests(None, hooks), body)


def lifecycle(run: Run) -> None:
    """The state machine: create, poll, cancel, peek, advance, webhooks."""
    if not _omni(run):
        run.skipped("lifecycle", f"--task-type does not include {kit_packs.OMNI}")
        return
    if not run.paid:
        _unpaid(run, "lifecycle")
        return
    if not run.budget.can_spend(run.prices.cheapest):
        run.skipped("lifecycle", "the spending budget is used up")
        return
    run.machine("lifecycle")


def _unpaid(run: Run, phase: str) -> None:
    run.skipped(phase, UNPAID)
    for check in PAID_CHECKS:
        run.not_run(phase, check, UNPAID)


def pack_examples(run: Run) -> None:
    """Every selected pack's documented examples: invalid ones refused, valid ones accepted.

    An invalid example of a guessed rule needs the control plane or a budget (like the omni
    mutations); valid examples are created (priced by the pack's table) and cancelled at once.
    A failing case is reported and the next one runs.
    """
    result = PhaseResult("pack_examples")

    def cases() -> None:
        for pack in kit_packs.packs(run.options.task_types, run.options.packs):
            prices = kit_packs.PackPrices(pack, run.options.price_table)
            for case in kit_packs.invalid_examples(pack):
                _one(run, result, _pack_invalid, case, prices)
            for name, body in kit_packs.valid_examples(pack) if run.paid else ():
                if any(link.field in (body.get("input") or {}) for link in pack.links):
                    why = "it names an earlier task (a pack link); the lifecycle checks cover links"
                    run.not_run("pack_examples", f"valid example {name}", why)
                    continue
                _one(run, result, _pack_valid, body, prices)
        if not run.paid:
            for check in ("valid_accepted", "created_pending", "create_echoes", "frozen_is_price"):
                run.not_run("pack_examples", f"{check} (valid examples)", UNPAID)

    run.direct(result, cases)


def _one(run: Run, result: PhaseResult, case: Callable[..., bool], *args: Any) -> None:
    """One example; a violation is reported and the loop goes on."""
    try:
        if case(run, *args):
            result.examples += 1
    except ContractFailure as failure:
        result.examples += 1
        run.report.add(Finding(result.name, failure))


def _pack_invalid(run: Run, case: Invalid, prices: Any) -> bool:
    if case.grade.is_guess and not run.paid:
        what = f"example {case.name} ({case.pointer} [{case.rule}])"
        run.not_run("pack_examples", what, _GUESS_UNPAID.format(reason=case.grade.source))
        return False
    usd = prices.worst(case.body.get("input"))
    exchange = run.create(case.body, free=not case.grade.is_guess, usd=usd)
    run.undo(exchange)
    run.checker("not_server_error", exchange)
    if run.checker("invalid_rejected", exchange, case):
        _envelope(run, exchange)
        run.checker("error_names_field", exchange, case)
    return True


def _pack_valid(run: Run, body: dict[str, Any], prices: Any) -> bool:
    try:
        usd = prices.usd(body["input"])
    except Exception:
        usd = prices.worst(body["input"])
    if not run.budget.can_spend(usd) and run.budget.usd is not None:
        return False
    exchange = run.create(body, usd=usd)
    run.checker("not_server_error", exchange)
    if not run.checker("valid_accepted", exchange):
        return True
    _envelope(run, exchange)
    run.checker("created_pending", exchange)
    run.checker("create_echoes", exchange, body)
    run.checker("frozen_is_price", exchange, body, prices)
    task_id = str(task_of(exchange)["task_id"])
    cancel = run.cancel(task_id)
    _envelope(run, cancel, "cancel")
    return True


PHASES: Final[dict[str, Callable[[Run], None]]] = {
    "auth": auth,
    "unknown_ids": unknown_ids,
    "invalid_requests": invalid,
    "pack_examples": pack_examples,
    "junk_bodies": junk,
    "valid_requests": valid,
    "lifecycle": lifecycle,
}
