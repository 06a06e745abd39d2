"""The suite's outcome: phases, violations (one per root cause), drift, unjudged, not run, spend.

:class:`SuiteReport` renders for a terminal (:meth:`SuiteReport.render`) and as data
(:meth:`SuiteReport.as_dict`, the ``--json`` report); :mod:`contract_tests.junit` writes it
as JUnit XML.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import metadata
from typing import Any

from contract_tests.failures import ContractFailure
from contract_tests.stateful import Charge
from contract_tests.verdicts import Drift, NotRun, Unjudged


@dataclass
class Finding:
    """A violation (or an error the server caused), once per root cause, with a count."""

    phase: str
    failure: ContractFailure | None
    error: str = ""
    example: str = ""
    count: int = 1
    phases: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, ...]:
        """What makes two findings the same root cause."""
        return self.failure.key if self.failure else ("error", self.error.split("\n")[0])

    @property
    def check(self) -> str:
        """The check that failed ("error" for an exception)."""
        return self.failure.check if self.failure else "error"

    @property
    def message(self) -> str:
        """One line."""
        if self.failure is None:
            return self.error
        where = f" at {self.failure.pointer}" if self.failure.pointer else ""
        return f"rule '{self.failure.rule}'{where}: {self.failure.message}"

    def render(self) -> str:
        """The failure, how often it was seen, then the example Hypothesis reported."""
        text = self.failure.render() if self.failure else f"error: {self.error}"
        seen = sorted(set(self.phases) - {self.phase})
        if self.count > 1:
            also = f", also in {', '.join(seen)}" if seen else ""
            text += f"\n  (seen {self.count} times{also}: one root cause)"
        if self.example:
            text += "\n  " + self.example.replace("\n", "\n  ")
        return f"[phase {self.phase}] {text}"

    def as_dict(self) -> dict[str, Any]:
        """The JSON report's form."""
        failure = self.failure
        return {
            "phase": self.phase,
            "phases": sorted(set(self.phases) | {self.phase}),
            "check": self.check,
            "rule": failure.rule if failure else "",
            "pointer": failure.pointer if failure else "",
            "schema": failure.schema if failure else "",
            "grade": str(failure.grade) if failure and failure.grade else "documented",
            "message": failure.message if failure else self.error,
            "evidence": failure.exchange.describe() if failure and failure.exchange else "",
            "example": self.example,
            "count": self.count,
        }


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
    #: (phase, check) -> how often it ran.
    checks_by_phase: dict[tuple[str, str], int] = field(default_factory=dict)
    spent_usd: Decimal = Decimal(0)
    budget_usd: Decimal | None = None
    charges: list[Charge] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    unjudged: list[Unjudged] = field(default_factory=list)
    not_run: list[NotRun] = field(default_factory=list)
    strict_guesses: bool = False
    seconds: float = 0.0

    def add(self, finding: Finding) -> None:
        """Add a finding, merged with a known one of the same root cause."""
        for known in self.findings:
            if known.key == finding.key:
                known.count += finding.count
                known.phases.append(finding.phase)
                return
        finding.phases.append(finding.phase)
        self.findings.append(finding)

    @property
    def ok(self) -> bool:
        """No violation, nothing left unjudged, and no drift if guesses are held strictly."""
        return not self.findings and not self.unjudged and not (self.strict_guesses and self.drift)

    @property
    def exit_code(self) -> int:
        """0 when :attr:`ok`, else 1."""
        return 0 if self.ok else 1

    @property
    def examples(self) -> int:
        """Examples run over every phase."""
        return sum(p.examples for p in self.phases)

    @property
    def rules(self) -> list[str]:
        """``check: rule`` of every finding (what a test asserts on)."""
        return [f"{f.failure.check}: {f.failure.rule}" for f in self.findings if f.failure]

    @property
    def drift_rules(self) -> list[str]:
        """``check: rule`` of every drift entry."""
        return [f"{d.check}: {d.rule}" for d in self.drift]

    @property
    def billed_tasks(self) -> list[Charge]:
        """Tasks created and not cancelled (what the account may be billed for)."""
        return [c for c in self.charges if not c.cancelled]

    def render(self) -> str:
        """A short report for a terminal."""
        mode = "control plane" if self.control else "no control plane"
        lines = [f"piapi-mock contract {self.base_url} ({mode}, seed {self.seed})"]
        for p in self.phases:
            failed = any(f.phase == p.name or p.name in f.phases for f in self.findings)
            status = p.note or ("FAILED" if failed else "ok")
            lines.append(f"  {p.name:<17}{p.examples:>6} examples {p.seconds:>7.1f} s  {status}")
        lines.append(f"  checks run: {sum(self.checks.values())}; {self.spend_line()}")
        lines += self._section("not run", [n.render() for n in self.not_run])
        drift_title = "drift (guessed rules this server does not share" + (
            "; --strict-guesses: they fail the run)" if self.strict_guesses else "; not failures)"
        )
        lines += self._section(drift_title, [d.render() for d in self.drift])
        lines += self._section("could not judge", [u.render() for u in self.unjudged])
        if self.ok:
            lines.append("OK: no contract violation" + (f" ({len(self.drift)} drift)"))
            return "\n".join(lines)
        if self.findings:
            lines.append(f"FAILED: {len(self.findings)} violation(s)")
            lines += [f"{i}. {f.render()}" for i, f in enumerate(self.findings, 1)]
        elif self.unjudged:
            lines.append(f"FAILED: could not judge {len(self.unjudged)} check(s) (HTTP 429)")
        else:
            lines.append(f"FAILED: {len(self.drift)} drift(s) under --strict-guesses")
        lines.append(f"rerun with --seed {self.seed}")
        return "\n".join(lines)

    def spend_line(self) -> str:
        """Tasks created, cancelled, and what may be billed."""
        if self.control:
            return f"{len(self.charges)} task(s) created on the fake (no money)"
        cancelled = len(self.charges) - len(self.billed_tasks)
        budget = "no budget" if not self.budget_usd else f"budget ${self.budget_usd}"
        return (
            f"{len(self.charges)} task(s) created, {cancelled} cancelled, "
            f"spent ${self.spent_usd} ({budget})"
        )

    @staticmethod
    def _section(title: str, items: list[str]) -> list[str]:
        if not items:
            return []
        shown = [f"  - {item}".replace("\n", "\n    ") for item in items]
        return [f"{title}: {len(items)}", *shown]

    def as_dict(self) -> dict[str, Any]:
        """Everything, as JSON-ready data (the ``--json`` report)."""
        return {
            "base_url": self.base_url,
            "seed": self.seed,
            "control_plane": self.control,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
            "strict_guesses": self.strict_guesses,
            "versions": versions(),
            "phases": [_phase(p) for p in self.phases],
            "checks": dict(sorted(self.checks.items())),
            "violations": [f.as_dict() for f in self.findings],
            "drift": [d.as_dict() for d in self.drift],
            "could_not_judge": [u.as_dict() for u in self.unjudged],
            "not_run": [n.as_dict() for n in self.not_run],
            "spend": {
                "budget_usd": None if self.budget_usd is None else str(self.budget_usd),
                "spent_usd": str(self.spent_usd),
                "tasks_created": len(self.charges),
                "tasks_billed": len(self.billed_tasks),
                "tasks": [c.as_dict() for c in self.charges],
            },
        }


def _phase(result: PhaseResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "examples": result.examples,
        "seconds": round(result.seconds, 3),
        "note": result.note,
    }


def versions() -> dict[str, str]:
    """The versions a rerun needs: the kit, Hypothesis, Python."""
    found = {"python": platform.python_version()}
    for name in ("piapi-mock", "hypothesis", "httpx"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "unknown"
    return found
