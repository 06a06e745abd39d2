"""The contract suite: every phase against one :class:`Endpoint`, gathered in a report.

Free phases (``auth``, ``unknown_ids``, ``invalid_requests``, ``junk_bodies``) send only what
cannot create a task on a server that keeps PiAPI's documented contract; a mutation of a rule
we *guessed* might be accepted (and billed) by such a server, so against a target without the
fake's control plane it is sent only within ``allow_spend_usd``. Paid phases
(``valid_requests``, ``lifecycle``) run when the target has the control plane, or within
``allow_spend_usd``: every create is priced before it is sent, and the budget is never
exceeded, counting a task that could not be cancelled in full. Anything a server wrongly
accepts is cancelled at once, and every task created is in the report with its price.

Before any phase, a preflight GET with the caller's key stops the run with
:class:`KeyRefused` if the server refuses the key.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Final

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.stateful import run_state_machine_as_test

from contract_tests import phases
from contract_tests.checks import CHECKS, Checker, task_of
from contract_tests.endpoint import Endpoint, Exchange, Retry
from contract_tests.failures import ContractFailure
from contract_tests.hooks import WebhookSink
from contract_tests.prices import Prices, load_prices
from contract_tests.report import Finding, PhaseResult, SuiteReport
from contract_tests.stateful import Budget, MachineConfig, lifecycle_machine
from contract_tests.verdicts import NotRun, PhaseStop

DEFAULT_EXAMPLES: Final = 200
#: No shrinking (a target without the control plane), and never the slow explain phase.
NO_SHRINK: Final = [Phase.explicit, Phase.reuse, Phase.generate]
SHRINK: Final = [*NO_SHRINK, Phase.shrink]
Progress = Callable[[str], None]


class KeyRefused(RuntimeError):
    """The preflight request was refused (401/403): the key is wrong; nothing else was sent."""


@dataclass(frozen=True)
class SuiteOptions:
    """How much to run, what may be spent, and how to report."""

    max_examples: int = DEFAULT_EXAMPLES
    seed: int | None = None
    allow_spend_usd: Decimal = Decimal(0)
    #: Seconds the lifecycle may wait for real time on a target without a control plane.
    wait_budget: float = 900.0
    price_table: str = "seed"
    skip: tuple[str, ...] = ()
    steps: int = 20
    webhooks: bool = True
    only: tuple[str, ...] = ()
    #: Shrink a failing example to a minimal one (slower on failure, far clearer). Never done
    #: against a target without the control plane and without a budget.
    shrink: bool = True
    #: A guessed rule the server does not share fails the run (it is drift either way).
    strict_guesses: bool = False
    #: Called with one line per phase start/end (and every ``heartbeat`` seconds in a phase).
    progress: Progress | None = None
    heartbeat: float = 10.0
    #: How 429/5xx answers are retried (``Retry-After``, bounded); ``sleep`` is injectable.
    retry: Retry | None = None
    #: ``MODEL/TASK_TYPE`` pairs to test (empty: every known one).
    task_types: tuple[str, ...] = ()
    #: User pack folders (as the fake's ``--pack``), beside the shipped packs.
    packs: tuple[str, ...] = ()


@dataclass
class Run:
    """Shared state of one suite run (what phases need)."""

    endpoint: Endpoint
    options: SuiteOptions
    checker: Checker
    budget: Budget
    report: SuiteReport
    prices: Prices
    sink: WebhookSink | None = None

    @property
    def paid(self) -> bool:
        """Whether tasks may be created."""
        return self.report.control or self.options.allow_spend_usd > 0

    def say(self, line: str) -> None:
        """A progress line (if anybody listens)."""
        if self.options.progress is not None:
            self.options.progress(line)

    def not_run(self, phase: str, what: str, reason: str) -> None:
        """Record something that did not run, and why."""
        item = NotRun(phase, what, reason)
        if item not in self.report.not_run:
            self.report.not_run.append(item)

    def settings(self, examples: int | None = None) -> settings:
        """Hypothesis settings of a phase (no explain phase: it costs minutes on failure)."""
        shrink = self.options.shrink and self.paid
        return settings(
            max_examples=examples or self.options.max_examples,
            deadline=None,
            database=None,
            stateful_step_count=self.options.steps,
            suppress_health_check=list(HealthCheck),
            phases=SHRINK if shrink else NO_SHRINK,
        )

    # -- creating tasks (every create of the suite goes through here) -----------------------

    def create(
        self, body: Any, key: str | None = None, free: bool = False, usd: Decimal | None = None
    ) -> Exchange:
        """Send a create; price it first unless ``free`` (documented to create nothing).

        ``usd`` is the price to reserve (default: the omni table's price of the input, or the
        dearest task). Raises :class:`PhaseStop` when the budget cannot cover it.
        """
        task_input = body.get("input") if isinstance(body, dict) else None
        usd = self.prices.worst(task_input) if usd is None else usd
        reserved = not free or self.budget.usd is None
        if reserved and not self.budget.spend(usd):
            raise PhaseStop(f"the budget is used up (${self.budget.spent} of ${self.budget.usd})")
        exchange = self.endpoint.create(body, key)
        task_id = _created_id(exchange)
        if task_id:
            if not reserved:
                self.budget.spent += usd  # a free request was wrongly accepted: it counts
            self.budget.charge(task_id, self.checker.phase, usd)
        elif reserved:
            self.budget.refund(usd)
        return exchange

    def undo(self, exchange: Exchange) -> None:
        """A request that should have failed created a task: cancel it at once."""
        task_id = _created_id(exchange)
        if task_id:
            self.cancel(task_id)

    def cancel(self, task_id: str) -> Exchange:
        """Cancel ``task_id``; a 200 releases its price."""
        answer = self.endpoint.cancel(task_id)
        if answer.status == 200:
            self.budget.cancelled(task_id)
        return answer

    # -- running phases ----------------------------------------------------------------------

    def hypothesis(
        self,
        name: str,
        strategy: st.SearchStrategy[Any],
        body: Callable[[Any], None],
        examples: int | None = None,
        result: PhaseResult | None = None,
    ) -> PhaseResult:
        """Run ``body`` on examples of ``strategy`` as phase ``name`` (or add to ``result``)."""
        result = result or PhaseResult(name)
        beat = [time.monotonic()]

        def test(value: Any) -> None:
            body(value)
            result.examples += 1  # counted once it ran (a rejected draw is not an example)
            if time.monotonic() - beat[0] >= self.options.heartbeat:
                beat[0] = time.monotonic()
                self.say(f"  {name}: {result.examples} examples so far")

        test.__name__ = test.__qualname__ = name

        wrapped = seed(self.report.seed)(self.settings(examples)(given(strategy)(test)))
        self._phase(result, wrapped)
        return result

    def machine(self, name: str) -> None:
        """Run the lifecycle state machine as phase ``name``."""
        result = PhaseResult(name)
        config = MachineConfig(self.endpoint, self.checker, self.prices, self.budget, self.sink)
        machine: Any = seed(self.report.seed)(lifecycle_machine(config))
        test_settings = self.settings(self.options.max_examples)

        def run() -> None:
            try:
                run_state_machine_as_test(machine, settings=test_settings)
            finally:
                config.settle_webhooks()

        self._phase(result, run)
        result.examples = config.runs
        if self.sink is not None and not config.delivering:
            reason = f"{self.endpoint.client.base_url} logged no delivery to the kit's receiver"
            self.webhooks_not_run(reason)

    def direct(self, result: PhaseResult, cases: Callable[[], None]) -> None:
        """Run a phase that is a plain loop over fixed cases (no Hypothesis)."""
        self._phase(result, cases)

    def webhooks_not_run(self, reason: str) -> None:
        """The webhook checks cannot run here."""
        for check in ("webhook_matches_get", "webhook_secret_header"):
            self.not_run("lifecycle", check, reason)

    def skipped(self, name: str, note: str) -> None:
        """Record a phase that did not run."""
        self.report.phases.append(PhaseResult(name, note=f"skipped: {note}"))
        self.not_run(name, "the whole phase", note)
        self.say(f"{name}: skipped ({note})")

    def _phase(self, result: PhaseResult, run: Callable[[], None]) -> None:
        first = result not in self.report.phases
        if first:
            self.say(f"{result.name}: started")
        self.checker.phase = result.name
        self.checker.raised = []
        started = time.perf_counter()
        try:
            run()
        except PhaseStop as stop:
            result.note = f"ended early: {stop}"
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            found = list(_findings(result, exc))
            if not found and self.checker.raised:
                found = _unreplayed(result, self.checker.raised)
            for finding in found:
                self.report.add(finding)
        result.seconds += time.perf_counter() - started
        if first:
            self.report.phases.append(result)

    def finish_phase(self, result: PhaseResult | None) -> None:
        """Say how a phase ended."""
        if result is None:
            return
        failed = any(result.name in f.phases for f in self.report.findings)
        status = result.note or ("FAILED" if failed else "ok")
        self.say(f"{result.name}: {result.examples} examples, {result.seconds:.1f} s, {status}")


def _created_id(exchange: Exchange) -> str:
    if exchange.status != 200:
        return ""
    return str(task_of(exchange).get("task_id") or "")


def _findings(result: PhaseResult, exc: BaseException) -> Iterator[Finding]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _findings(result, inner)
        return
    example = "\n".join(getattr(exc, "__notes__", []))
    if isinstance(exc, ContractFailure):
        yield Finding(result.name, exc, example=example)
    elif isinstance(exc, HypothesisException):
        # The kit's own condition (no example fits a small budget, draws that depend on the
        # budget, ...): the phase ends, the server is not blamed.
        note = f"ended early (kit: {type(exc).__name__}: {str(exc).splitlines()[0][:120]})"
        result.note = result.note or note
    else:
        yield Finding(result.name, None, f"{type(exc).__name__}: {exc}", example)


def _unreplayed(result: PhaseResult, raised: list[ContractFailure]) -> list[Finding]:
    """Violations seen in a phase that Hypothesis ended with its own error (not replayable)."""
    seen: dict[tuple[str, str, str], Finding] = {}
    why = f"(not replayed: {result.note.removeprefix('ended early ')})"
    for failure in raised:
        seen.setdefault(failure.key, Finding(result.name, failure, example=why))
    return list(seen.values())


def _preflight(endpoint: Endpoint) -> bool:
    """Probe with our key; raise :class:`KeyRefused` on 401/403. Whether the control plane is."""
    probe = endpoint.get("contract-probe")
    if probe.status in {401, 403}:
        body = probe.json
        message = body.get("message") if isinstance(body, dict) else probe.text[:200]
        raise KeyRefused(
            f"{endpoint.client.base_url} refused the API key (HTTP {probe.status}: {message}); "
            "nothing else was sent"
        )
    return endpoint.has_control


def run_suite(endpoint: Endpoint, options: SuiteOptions | None = None) -> SuiteReport:
    """Run every applicable phase against ``endpoint``; never raises for a violation.

    An unreachable target raises ``httpx.TransportError`` and a refused key
    :class:`KeyRefused` before any phase runs; an unknown phase, check or task type raises
    ``ValueError``.
    """
    options = options or SuiteOptions()
    _validate(options)
    if options.retry is not None:
        endpoint.retry = replace(options.retry)
    checker = Checker(options.skip)
    started = time.perf_counter()
    control = _preflight(endpoint)
    chosen_seed = options.seed if options.seed is not None else random.randrange(2**32)
    report = SuiteReport(str(endpoint.client.base_url), chosen_seed, control)
    report.strict_guesses = options.strict_guesses
    limit = None if control else options.allow_spend_usd
    report.budget_usd = limit
    wait = 0.0 if control else options.wait_budget
    prices = load_prices(options.price_table)
    run = Run(endpoint, options, checker, Budget(limit, wait), report, prices)
    with ExitStack() as stack:
        if options.webhooks and endpoint.has_webhook_log:
            run.sink = stack.enter_context(WebhookSink())
        elif not options.webhooks:
            run.webhooks_not_run("webhooks turned off")
        else:
            run.webhooks_not_run(
                "the kit's receiver listens on 127.0.0.1 and the target has no webhook "
                "delivery log (/_mock/webhooks), so no delivery can be seen"
            )
        for name, phase in phases.PHASES.items():
            if not options.only or name in options.only:
                before = len(report.phases)
                phase(run)
                for result in report.phases[before:]:
                    run.finish_phase(result)
    _close(run, options, started)
    return report


def _validate(options: SuiteOptions) -> None:
    unknown = set(options.only) - set(phases.PHASES)
    if unknown:
        raise ValueError(
            f"unknown phases: {', '.join(sorted(unknown))}; known: {', '.join(phases.PHASES)}"
        )
    known = phases.task_types(options.packs)
    bad = sorted(set(options.task_types) - set(known))
    if bad:
        raise ValueError(f"unknown task types: {', '.join(bad)}; known: {', '.join(known)}")


def _close(run: Run, options: SuiteOptions, started: float) -> None:
    report, checker = run.report, run.checker
    report.checks = dict(checker.counts)
    report.checks_by_phase = dict(checker.by_phase)
    report.drift = list(checker.tally.drift.values())
    report.unjudged = list(checker.tally.unjudged.values())
    report.spent_usd = run.budget.spent
    report.charges = list(run.budget.charges)
    listed = {n.what for n in report.not_run}
    unreached = "no example reached it in this run"
    if options.only:
        unreached = f"not reached by the phases run (--phase {' '.join(options.only)})"
    for name in CHECKS:
        if name not in checker.counts and name not in checker.skip and name not in listed:
            run.not_run("-", name, unreached)
    for name in sorted(checker.skip):
        run.not_run("-", name, "turned off (--skip-check)")
    report.seconds = time.perf_counter() - started


__all__ = ["KeyRefused", "PhaseStop", "Run", "SuiteOptions", "SuiteReport", "run_suite"]
