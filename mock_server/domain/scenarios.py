"""Task outcomes on purpose: the ``X-Mock-Scenario`` grammar, outcome rules and seeded rates.

A scenario is a comma-separated list of steps (later steps override earlier ones)::

    complete                 finish normally (the seeded render time)
    complete-after:S         finish after S virtual seconds of processing
    fail[:REASON]            fail with REASON (default internal_error) after its typical time
    fail-after:S[:REASON]    fail after S seconds of processing
    slow[:F]                 render F times longer than usual (default 3)
    stuck                    stay ``processing`` forever (until forced from /_mock)
    pending:S                wait S seconds in ``pending`` before processing starts

e.g. ``X-Mock-Scenario: pending:30,fail-after:10:content_policy``. A bad value is a 400 that
names the header and the rule. The failures are simulated (see :data:`FAILURES`): PiAPI
publishes no list of task error codes, so the catalogue borrows upstream Kling codes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from mock_server.domain.clock import to_ns
from mock_server.domain.errors import PiapiError
from mock_server.domain.grammar import bounded, split_steps
from mock_server.domain.models import NEVER, Failure
from mock_server.domain.timing import Timing

HEADER: Final = "x-mock-scenario"
MAX_SECONDS: Final = 10_000_000.0
#: Rules kept at once, and the largest ``times``/``every`` (guards against unbounded growth).
MAX_RULES: Final = 1000
MAX_COUNT: Final = 1_000_000_000
SLOW_FACTOR: Final = 3.0


@dataclass(frozen=True, slots=True)
class Reason:
    """A simulated failure: the task's ``error`` and when it typically happens."""

    name: str
    failure: Failure
    after_s: float
    weight: float


#: Simulated failures. Codes and raw texts follow upstream Kling's error table (1301 content
#: safety, 1303 concurrency, 5000/5002 server); PiAPI's own codes are undocumented (a guess).
FAILURES: Final[Mapping[str, Reason]] = {
    r.name: r
    for r in (
        Reason(
            "content_policy",
            Failure(
                1301,
                "task failed: the input was flagged by the upstream content safety check",
                "Trigger the content security policy of the platform",
            ),
            3.0,
            0.35,
        ),
        Reason(
            "upstream_timeout",
            Failure(
                5002,
                "task failed: the upstream service timed out",
                "Server internal timeout, usually due to a backlog",
            ),
            300.0,
            0.25,
        ),
        Reason(
            "internal_error",
            Failure(5000, "task failed: internal error", "Server internal error"),
            20.0,
            0.25,
        ),
        Reason(
            "invalid_input",
            Failure(
                1201,
                "task failed: the upstream service rejected the input",
                "Invalid request parameters",
            ),
            1.0,
            0.10,
        ),
        Reason(
            "concurrency_limit",
            Failure(
                1303,
                "task failed: parallel task over resource pack limit",
                "Concurrency or QPS exceeds the prepaid resource package limit",
            ),
            1.0,
            0.05,
        ),
    )
}
DEFAULT_REASON: Final = "internal_error"

#: The grammar, as ``GET /_mock/scenarios`` lists it.
GRAMMAR: Final[tuple[tuple[str, str], ...]] = (
    ("complete", "finish normally after the seeded render time"),
    ("complete-after:S", "finish after S virtual seconds of processing"),
    ("fail[:REASON]", "fail with REASON (default internal_error) after its typical time"),
    ("fail-after:S[:REASON]", "fail after S virtual seconds of processing"),
    ("slow[:F]", f"render F times longer than usual (default {SLOW_FACTOR:g})"),
    ("stuck", "stay processing forever (force it with /_mock/tasks/{id}/...)"),
    ("pending:S", "wait S virtual seconds in pending before processing"),
    ("A,B", "steps combine left to right, e.g. pending:30,fail-after:10:content_policy"),
)


class ScenarioError(PiapiError):
    """A scenario text that breaks the grammar (HTTP 400)."""

    status = 400


@dataclass(frozen=True, slots=True)
class Scenario:
    """A parsed outcome: overrides of the seeded timing and the failure, if any."""

    text: str
    pending_s: float | None = None
    run_s: float | None = None
    run_factor: float = 1.0
    stuck: bool = False
    failure: Failure | None = None

    def apply(self, plan: Timing) -> tuple[int, int, Failure | None]:
        """(pending_ns, run_ns, failure) for a task whose seeded timing is ``plan``."""
        pending = plan.pending_ns if self.pending_s is None else to_ns(self.pending_s)
        if self.stuck:
            return pending, NEVER, None
        run = plan.run_ns if self.run_s is None else to_ns(self.run_s)
        return pending, round(run * self.run_factor), self.failure


def _seconds(text: str, where: str) -> float:
    return bounded(text, where, ScenarioError, "seconds", MAX_SECONDS, "seconds")


def _reason(name: str, where: str) -> Reason:
    reason = FAILURES.get(name)
    if reason is None:
        raise ScenarioError(
            f"{where}: unknown failure reason {name!r}; known: {', '.join(FAILURES)}"
        )
    return reason


def _step(scenario: Scenario, step: str, where: str) -> Scenario:
    name, _, arg = step.partition(":")
    if name == "complete" and not arg:
        return replace(scenario, run_s=None, run_factor=1.0, stuck=False, failure=None)
    if name == "complete-after" and arg:
        return replace(scenario, run_s=_seconds(arg, where), stuck=False, failure=None)
    if name == "fail":
        reason = _reason(arg or DEFAULT_REASON, where)
        return replace(scenario, run_s=reason.after_s, stuck=False, failure=reason.failure)
    if name == "fail-after" and arg:
        seconds, _, why = arg.partition(":")
        reason = _reason(why or DEFAULT_REASON, where)
        return replace(
            scenario, run_s=_seconds(seconds, where), stuck=False, failure=reason.failure
        )
    if name == "slow":
        factor = _seconds(arg, where) if arg else SLOW_FACTOR
        if not 1 <= factor <= 1000:
            raise ScenarioError(f"{where}: slow factor must be between 1 and 1000")
        return replace(scenario, run_factor=factor)
    if name == "stuck" and not arg:
        return replace(scenario, stuck=True, failure=None)
    if name == "pending" and arg:
        return replace(scenario, pending_s=_seconds(arg, where))
    known = ", ".join(g for g, _ in GRAMMAR[:-1])
    raise ScenarioError(f"{where}: unknown step {step!r}; grammar: {known}")


def parse(text: str, where: str = "X-Mock-Scenario") -> Scenario:
    """Parse a scenario; :class:`ScenarioError` (400) names ``where`` and the broken rule."""
    steps = split_steps(text, where, ScenarioError)
    scenario = Scenario(text=",".join(steps))
    for step in steps:
        scenario = _step(scenario, step, f"invalid request: {where}")
    return scenario


@dataclass(slots=True)
class Firing:
    """When a rule fires among the calls it matches: every ``every``-th, at most ``times``."""

    times: int | None = None
    every: int = 1
    seen: int = 0
    fired: int = 0

    def fire(self) -> bool:
        """Count a matching call; whether the rule fires on it."""
        self.seen += 1
        if self.times is not None and self.fired >= self.times:
            return False
        if self.seen % self.every:
            return False
        self.fired += 1
        return True

    @property
    def spent(self) -> bool:
        """Whether the rule can no longer fire."""
        return self.times is not None and self.fired >= self.times

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"times": self.times, "every": self.every, "seen": self.seen, "fired": self.fired}


def firing_from(body: Mapping[str, Any]) -> Firing:
    """``times`` (absent: unlimited) and ``every`` (default 1) of a control-plane rule body."""
    times, every = body.get("times"), body.get("every", 1)
    for key, value in (("times", times), ("every", every)):
        if value is None and key == "times":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
            raise PiapiError(
                f"invalid request: /{key}: a positive integer is required (at most {MAX_COUNT})"
            )
    return Firing(times=times, every=every)


#: What a rule can match on: input fields and the caller's key.
MATCH_FIELDS: Final[Mapping[str, type]] = {
    "prompt_contains": str,
    "resolution": str,
    "version": str,
    "api_key": str,
    "enable_audio": bool,
    "duration": int,
}


def _prompts(task_input: Mapping[str, Any]) -> Iterator[str]:
    yield str(task_input.get("prompt", ""))
    for shot in task_input.get("multi_shots") or []:
        if isinstance(shot, Mapping):
            yield str(shot.get("prompt", ""))


def check_match(match: Any) -> dict[str, Any]:
    """A validated ``match`` object of a rule body (400 on unknown fields or wrong types)."""
    if match is None:
        return {}
    if not isinstance(match, dict):
        raise PiapiError("invalid request: /match: an object is required")
    for key, value in match.items():
        kind = MATCH_FIELDS.get(key)
        if kind is None:
            raise PiapiError(
                f"invalid request: /match/{key}: unknown; known: {', '.join(MATCH_FIELDS)}"
            )
        if type(value) is not kind:
            raise PiapiError(f"invalid request: /match/{key}: a {kind.__name__} is required")
    return dict(match)


def matches(match: Mapping[str, Any], owner: str, task_input: Mapping[str, Any]) -> bool:
    """Whether a create by ``owner`` with ``task_input`` meets every condition of ``match``."""
    for key, want in match.items():
        if key == "prompt_contains":
            needle = str(want).lower()
            if not any(needle in p.lower() for p in _prompts(task_input)):
                return False
        elif key == "api_key":
            if owner != want:
                return False
        elif key == "duration":
            if int(task_input.get("duration", 5)) != want:
                return False
        elif key == "enable_audio":
            if bool(task_input.get("enable_audio", False)) is not want:
                return False
        elif task_input.get(key, _DEFAULTS.get(key)) != want:
            return False
    return True


_DEFAULTS: Final = {"resolution": "720p", "version": "3.0"}


@dataclass(slots=True)
class OutcomeRule:
    """Tasks created with input matching ``match`` get ``scenario``."""

    rule_id: str
    scenario: Scenario
    match: dict[str, Any]
    firing: Firing = field(default_factory=Firing)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.rule_id,
            "scenario": self.scenario.text,
            "match": self.match,
            **self.firing.as_dict(),
        }


def parse_rates(
    failure_rate: float, entries: tuple[str, ...]
) -> list[tuple[float, Scenario | None]]:
    """``--failure-rate`` and ``--scenario-rate SCENARIO=RATE`` as (rate, scenario) pairs.

    ``None`` stands for a seeded failure whose reason is drawn by weight from :data:`FAILURES`.
    """
    rates: list[tuple[float, Scenario | None]] = []
    if failure_rate:
        rates.append((failure_rate, None))
    for entry in entries:
        text, sep, rate_text = entry.rpartition("=")
        if not sep:
            raise ValueError(f"scenario rate {entry!r}: expected SCENARIO=RATE")
        try:
            rates.append((float(rate_text), parse(text, "--scenario-rates")))
        except ScenarioError as exc:
            raise ValueError(exc.message.removeprefix("invalid request: ")) from None
    total = sum(rate for rate, _ in rates)
    if any(not 0 <= rate <= 1 for rate, _ in rates) or total > 1 + 1e-9:
        raise ValueError("outcome rates must each be in [0, 1] and sum to at most 1")
    return rates


def draw_failure(rng: random.Random) -> Scenario:
    """A seeded failure, its reason drawn by weight."""
    reasons = list(FAILURES.values())
    reason = rng.choices(reasons, weights=[r.weight for r in reasons])[0]
    return Scenario(text=f"fail:{reason.name}", run_s=reason.after_s, failure=reason.failure)


class ScenarioBook:
    """Chooses each new task's outcome: header, then the first firing rule, then the rates.

    The rates draw from their own seeded source (one draw per create while any rate is set),
    so outcomes repeat under the same seed and never shift task ids or timings.
    """

    def __init__(self, seed: int, failure_rate: float, rates: tuple[str, ...]) -> None:
        self.rates = parse_rates(failure_rate, rates)
        self.rules: list[OutcomeRule] = []
        self._next_id = 0
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        """Restart the random source and forget every rule."""
        self.rng = random.Random(f"{seed}:outcomes")
        self.rules.clear()
        self._next_id = 0

    def add(self, scenario: Scenario, match: dict[str, Any], firing: Firing) -> OutcomeRule:
        """Add a rule (checked after the header, before the rates, in insertion order)."""
        if len(self.rules) >= MAX_RULES:
            raise PiapiError(f"invalid request: at most {MAX_RULES} outcome rules; delete some")
        self._next_id += 1
        rule = OutcomeRule(f"r{self._next_id}", scenario, match, firing)
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        """Drop a rule; whether it existed."""
        kept = [r for r in self.rules if r.rule_id != rule_id]
        found = len(kept) != len(self.rules)
        self.rules[:] = kept
        return found

    def clear(self) -> None:
        """Drop every rule."""
        self.rules.clear()

    def current(self) -> list[OutcomeRule]:
        """The rules in force, in the order they are checked."""
        return self.rules

    def choose(
        self, owner: str, task_input: Mapping[str, Any], requested: Scenario | None
    ) -> Scenario | None:
        """The scenario of a new task (``requested`` by header wins), or None for the default."""
        drawn = self._draw() if self.rates else None
        if requested is not None:
            return requested
        for rule in self.rules:
            if matches(rule.match, owner, task_input) and rule.firing.fire():
                return rule.scenario
        return drawn

    def _draw(self) -> Scenario | None:
        u = self.rng.random()
        for rate, scenario in self.rates:
            if u < rate:
                return scenario or draw_failure(self.rng)
            u -= rate
        return None
