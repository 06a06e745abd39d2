"""The contract suite: every phase against one :class:`Endpoint`, gathered in a report.

Free phases (no task is created, safe against the real PiAPI): ``auth``, ``unknown_ids``,
``invalid_requests``, ``junk_bodies``. Paid phases (``valid_requests``, ``lifecycle``) run
when the target has the fake's control plane, or within ``allow_spend_usd``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from contract_tests import phases
from contract_tests.checks import Checker
from contract_tests.endpoint import Endpoint
from contract_tests.failures import ContractFailure
from contract_tests.hooks import WebhookSink
from contract_tests.prices import load_prices
from contract_tests.stateful import Budget, MachineConfig, lifecycle_machine

DEFAULT_EXAMPLES: Final = 200
NO_SHRINK: Final = [Phase.explicit, Phase.reuse, Phase.generate]


@dataclass(frozen=True)
class SuiteOptions:
    """How much to run and what may be spent."""

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
    #: Shrink a failing example to a minimal one (slower on failure, far clearer).
    shrink: bool = True


@dataclass
class Finding:
    """A failure in one phase: the contract failure (or another error) and the example."""

    phase: str
    failure: ContractFailure | None
    error: str = ""
    example: str = ""

    def render(self) -> str:
        """The failure, then the shrunk example Hypothesis reported."""
        text = self.failure.render() if self.failure else f"error: {self.error}"
        if self.example:
            text += "\n  " + self.example.replace("\n", "\n  ")
        return f"[phase {self.phase}] {text}"


@dataclass
class PhaseResult:
    """What one phase did."""

    name: str
    examples: int = 0
    seconds: float = 0.0
    note: str = ""


@dataclass
class SuiteReport:
    """The suite's outcome: phases, findings, check counts and the seed to rerun with."""

    base_url: str
    seed: int
    control: bool
    phases: list[PhaseResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    checks: dict[str, int] = field(default_factory=dict)
    spent_usd: Decimal = Decimal(0)

    @property
    def ok(self) -> bool:
        """No finding."""
        return not self.findings

    @property
    def examples(self) -> int:
        """Examples run over every phase."""
        return sum(p.examples for p in self.phases)

    @property
    def rules(self) -> list[str]:
        """``check: rule`` of every finding (what a test asserts on)."""
        return [f"{f.failure.check}: {f.failure.rule}" for f in self.findings if f.failure]

    def render(self) -> str:
        """A short report for a terminal."""
        mode = "control plane" if self.control else "no control plane"
        lines = [f"piapi-mock contract {self.base_url} ({mode}, seed {self.seed})"]
        for p in self.phases:
            status = p.note or ("FAILED" if any(f.phase == p.name for f in self.findings) else "ok")
            lines.append(f"  {p.name:<17}{p.examples:>6} examples {p.seconds:>7.1f} s  {status}")
        spent = "" if self.control else f", spent ${self.spent_usd}"
        lines.append(f"  checks run: {sum(self.checks.values())}{spent}")
        if self.ok:
            lines.append("OK: no contract violation")
            return "\n".join(lines)
        lines.append(f"FAILED: {len(self.findings)} violation(s)")
        lines += [f"{i}. {f.render()}" for i, f in enumerate(self.findings, 1)]
        lines.append(f"rerun with --seed {self.seed}")
        return "\n".join(lines)


@dataclass
class Run:
    """Shared state of one suite run (what phases need)."""

    endpoint: Endpoint
    options: SuiteOptions
    checker: Checker
    budget: Budget
    report: SuiteReport
    sink: WebhookSink | None = None

    @property
    def paid(self) -> bool:
        """Whether tasks may be created."""
        return self.report.control or self.options.allow_spend_usd > 0

    def settings(self, examples: int | None = None) -> settings:
        """Hypothesis settings of a phase."""
        return settings(
            max_examples=examples or self.options.max_examples,
            deadline=None,
            database=None,
            stateful_step_count=self.options.steps,
            suppress_health_check=list(HealthCheck),
            phases=list(Phase) if self.options.shrink else NO_SHRINK,
        )

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

        def test(value: Any) -> None:
            body(value)
            result.examples += 1  # counted once it ran (a rejected draw is not an example)

        test.__name__ = test.__qualname__ = name

        wrapped = seed(self.report.seed)(self.settings(examples)(given(strategy)(test)))
        self._phase(result, wrapped)
        return result

    def machine(self, name: str) -> None:
        """Run the lifecycle state machine as phase ``name``."""
        result = PhaseResult(name)
        prices = load_prices(self.options.price_table)
        config = MachineConfig(self.endpoint, self.checker, prices, self.budget, self.sink)
        machine: Any = seed(self.report.seed)(lifecycle_machine(config))
        test_settings = self.settings(self.options.max_examples)

        def run() -> None:
            run_state_machine_as_test(machine, settings=test_settings)
            config.settle_webhooks()

        self._phase(result, run)
        result.examples = config.runs

    def skipped(self, name: str, note: str) -> None:
        """Record a phase that did not run."""
        self.report.phases.append(PhaseResult(name, note=f"skipped: {note}"))

    def _phase(self, result: PhaseResult, run: Callable[[], None]) -> None:
        started = time.perf_counter()
        try:
            run()
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            self.report.findings += list(_findings(result.name, exc))
        result.seconds += time.perf_counter() - started
        if result not in self.report.phases:
            self.report.phases.append(result)


def _findings(phase: str, exc: BaseException) -> Iterator[Finding]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _findings(phase, inner)
        return
    example = "\n".join(getattr(exc, "__notes__", []))
    if isinstance(exc, ContractFailure):
        yield Finding(phase, exc, example=example)
    else:
        yield Finding(phase, None, f"{type(exc).__name__}: {exc}", example)


def run_suite(endpoint: Endpoint, options: SuiteOptions | None = None) -> SuiteReport:
    """Run every applicable phase against ``endpoint``; never raises for a violation.

    An unreachable target raises ``httpx.TransportError`` before any phase runs; an unknown
    phase or check name raises ``ValueError``.
    """
    options = options or SuiteOptions()
    unknown = set(options.only) - set(phases.PHASES)
    if unknown:
        raise ValueError(
            f"unknown phases: {', '.join(sorted(unknown))}; known: {', '.join(phases.PHASES)}"
        )
    checker = Checker(options.skip)
    endpoint.get("contract-probe")
    chosen_seed = options.seed if options.seed is not None else random.randrange(2**32)
    report = SuiteReport(str(endpoint.client.base_url), chosen_seed, endpoint.has_control)
    limit = None if report.control else options.allow_spend_usd
    wait = 0.0 if report.control else options.wait_budget
    run = Run(endpoint, options, checker, Budget(limit, wait), report)
    with ExitStack() as stack:
        if options.webhooks and endpoint.has_webhook_log:
            run.sink = stack.enter_context(WebhookSink())
        for name, phase in phases.PHASES.items():
            if not options.only or name in options.only:
                phase(run)
    report.checks = dict(run.checker.counts)
    report.spent_usd = run.budget.spent
    return report


__all__ = ["Run", "SuiteOptions", "SuiteReport", "run_suite"]
