"""What the kit concludes besides "violation": drift, could not judge, not run.

* A **violation** breaks a documented or observed rule (PiAPI's own): exit status 1.
* **Drift**: a rule we *guessed* (``x-provenance`` grade ``guess``, or a check the kit itself
  guesses, such as "an error message names the field") that the server does not share. Listed
  apart, with the rule, the reason for the guess, the evidence and what to change in the
  pack; exit status 0 unless ``--strict-guesses``.
* **Could not judge**: the server answered 429 even after the retries, so the question (is
  this refused? accepted?) got no answer. The run is not a pass.
* **Not run**: a check or case the run could not exercise, with the reason (no receiver the
  server can reach, no budget for a request that might be billed, ...).

Each kind is counted once per root cause: the same (check, rule, pointer) seen 39 times is one
entry with ``count`` 39.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

GRADES: Final = ("documented", "observed", "guess")


@dataclass(frozen=True, slots=True)
class Grade:
    """Where a rule comes from: ``grade`` (documented/observed/guess) and its ``source``."""

    grade: str
    source: str

    @property
    def is_guess(self) -> bool:
        """Our rule, not PiAPI's."""
        return self.grade == "guess"

    def __str__(self) -> str:
        return f"{self.grade}: {self.source}"


#: A rule with no ``x-provenance`` is held to as PiAPI's.
SCHEMA: Final = Grade("documented", "the shipped schemas")


def grade_of(violation: Any) -> Grade | None:
    """The grade of a registry ``Violation`` (its ``provenance``), if it carries one."""
    provenance = getattr(violation, "provenance", None)
    if provenance is None:
        return None
    return Grade(str(provenance.grade), str(provenance.source))


def guess(reason: str) -> Grade:
    """A rule we chose, with the reason."""
    return Grade("guess", reason)


@dataclass
class Drift:
    """A guessed rule the server does not share: rule, reason, evidence, what to change."""

    phase: str
    check: str
    rule: str
    pointer: str
    reason: str
    evidence: str
    fix: str
    count: int = 1

    @property
    def key(self) -> tuple[str, str, str]:
        """One root cause."""
        return self.check, self.rule, self.pointer

    def render(self) -> str:
        """A few lines for a terminal."""
        where = f" at {self.pointer}" if self.pointer else ""
        times = f" ({self.count}x)" if self.count > 1 else ""
        evidence = self.evidence.replace("\n", "\n      ")
        return (
            f"[phase {self.phase}] [{self.check}] guessed rule '{self.rule}'{where}{times}\n"
            f"    why we guessed it: {self.reason}\n"
            f"    evidence: {evidence}\n"
            f"    change: {self.fix}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON report's form."""
        return {
            "phase": self.phase,
            "check": self.check,
            "rule": self.rule,
            "pointer": self.pointer,
            "reason": self.reason,
            "evidence": self.evidence,
            "fix": self.fix,
            "count": self.count,
        }


@dataclass
class Unjudged:
    """A check that got no answer to judge (429 after every retry)."""

    phase: str
    check: str
    reason: str
    evidence: str
    count: int = 1

    @property
    def key(self) -> tuple[str, str]:
        """One root cause."""
        return self.phase, self.check

    def render(self) -> str:
        """One line and the evidence."""
        times = f" ({self.count}x)" if self.count > 1 else ""
        return f"[phase {self.phase}] [{self.check}] could not judge{times}: {self.reason}\n" + (
            "    " + self.evidence.replace("\n", "\n    ")
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON report's form."""
        return {
            "phase": self.phase,
            "check": self.check,
            "reason": self.reason,
            "evidence": self.evidence,
            "count": self.count,
        }


@dataclass(frozen=True, slots=True)
class NotRun:
    """A check (or a phase, or one case of a phase) that did not run, and why."""

    phase: str
    what: str
    reason: str

    def render(self) -> str:
        """One line."""
        return f"[phase {self.phase}] {self.what}: {self.reason}"

    def as_dict(self) -> dict[str, str]:
        """The JSON report's form."""
        return {"phase": self.phase, "what": self.what, "reason": self.reason}


@dataclass
class Tally:
    """Drift and unjudged entries of a run, one per root cause (with a count)."""

    drift: dict[tuple[str, str, str], Drift] = field(default_factory=dict)
    unjudged: dict[tuple[str, str], Unjudged] = field(default_factory=dict)

    def add_drift(self, item: Drift) -> None:
        """Count ``item`` (a repeat of a known root cause adds to its count)."""
        known = self.drift.get(item.key)
        if known is None:
            self.drift[item.key] = item
        else:
            known.count += 1

    def add_unjudged(self, item: Unjudged) -> None:
        """Count ``item`` once per (phase, check)."""
        known = self.unjudged.get(item.key)
        if known is None:
            self.unjudged[item.key] = item
        else:
            known.count += 1


class PhaseStop(BaseException):
    """Ends the running phase cleanly (a budget used up): not a failure of the server.

    A ``BaseException`` so that Hypothesis lets it through at once instead of reporting it.
    """
