"""HTTP faults on purpose: the ``X-Mock-Fault`` grammar, fault rules and a seeded fault rate.

A fault is a comma-separated list of steps::

    429 | 500 | 502 | 503     answer PiAPI's error envelope with that status (429 adds
                              ``Retry-After: 1``)
    latency:MS                wait MS wall milliseconds before answering
    latency:MIN-MAX           wait a seeded uniform draw in [MIN, MAX] milliseconds
    drop                      close the connection without an answer
    truncate[:N]              send the headers and only N bytes of the body (default half)

e.g. ``X-Mock-Fault: latency:200,503``. Faults apply to the faked API only (create, get,
cancel, account), never to ``/_mock``. They are simulated: PiAPI documents no bodies for its
429/5xx answers (a guess), and a real gateway's 502 may well be HTML.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Final, Protocol

from mock_server.domain.errors import PiapiError
from mock_server.domain.grammar import ascii_int, bounded, split_steps
from mock_server.domain.scenarios import Firing

HEADER: Final = "x-mock-fault"
OPS: Final = ("create", "get", "cancel", "account")
MAX_LATENCY_MS: Final = 600_000.0
MAX_TRUNCATE: Final = 10_000_000
#: Rules of each kind kept at once (a guard against unbounded growth), faults logged.
MAX_RULES: Final = 1000
LOG_SIZE: Final = 1000
MESSAGES: Final = {
    429: "too many requests: rate limit reached, retry later (simulated by piapi-mock)",
    500: "internal server error (simulated by piapi-mock)",
    502: "bad gateway: upstream unavailable (simulated by piapi-mock)",
    503: "service unavailable, retry later (simulated by piapi-mock)",
}
GRAMMAR: Final[tuple[tuple[str, str], ...]] = (
    ("429|500|502|503", "answer the error envelope with that status (429: Retry-After: 1)"),
    ("latency:MS", "wait MS wall milliseconds before answering"),
    ("latency:MIN-MAX", "wait a seeded uniform draw of MIN..MAX milliseconds"),
    ("drop", "close the connection without answering"),
    ("truncate[:N]", "send the headers and only N bytes of the body (default half)"),
    ("A,B", "steps combine, e.g. latency:200,503"),
)


class FaultLog(Protocol):
    """Where fired faults are logged (a deque in one process, a store log when shared)."""

    def append(self, entry: dict[str, Any]) -> None: ...

    def clear(self) -> None: ...

    def __iter__(self) -> Iterator[dict[str, Any]]: ...


class FaultError(PiapiError):
    """A fault text that breaks the grammar (HTTP 400)."""

    status = 400


@dataclass(frozen=True, slots=True)
class Fault:
    """A parsed fault. At most one of ``status``, ``drop``, ``truncate`` (the last given)."""

    text: str
    status: int | None = None
    latency_ms: tuple[float, float] | None = None
    drop: bool = False
    truncate: int | None = None

    @property
    def passes(self) -> bool:
        """Whether the request still reaches the app (latency only, or truncated)."""
        return self.status is None and not self.drop


def _ms(text: str, where: str) -> float:
    return bounded(text, where, FaultError, "milliseconds", MAX_LATENCY_MS, "latency (ms)")


def _step(fault: Fault, step: str, where: str) -> Fault:
    name, _, arg = step.partition(":")
    status = ascii_int(step)
    if status in MESSAGES:
        return replace(fault, status=status, drop=False, truncate=None)
    if name == "latency" and arg:
        low, dash, high = arg.partition("-")
        lo = _ms(low, where)
        hi = _ms(high, where) if dash else lo
        if hi < lo:
            raise FaultError(f"{where}: latency range {arg!r} must be MIN-MAX with MIN <= MAX")
        return replace(fault, latency_ms=(lo, hi))
    if step == "drop":
        return replace(fault, status=None, drop=True, truncate=None)
    if name == "truncate":
        keep = ascii_int(arg) if arg else -1
        if keep is None or keep > MAX_TRUNCATE:
            raise FaultError(
                f"{where}: truncate takes a byte count of 0-{MAX_TRUNCATE} in ASCII digits, "
                f"got {arg!r}"
            )
        return replace(fault, status=None, drop=False, truncate=keep)
    known = ", ".join(g for g, _ in GRAMMAR[:-1])
    raise FaultError(f"{where}: unknown step {step!r}; grammar: {known}")


def parse(text: str, where: str = "X-Mock-Fault") -> Fault:
    """Parse a fault; :class:`FaultError` (400) names ``where`` and the broken rule."""
    steps = split_steps(text, where, FaultError)
    fault = Fault(text=",".join(steps))
    for step in steps:
        fault = _step(fault, step, f"invalid request: {where}")
    return fault


@dataclass(slots=True)
class FaultRule:
    """Calls of ``on`` (an op or ``any``), by ``api_key`` if given, get ``fault``."""

    rule_id: str
    fault: Fault
    on: str
    api_key: str | None
    firing: Firing = field(default_factory=Firing)

    def applies(self, op: str, key: str | None) -> bool:
        """Whether a call of ``op`` with ``key`` is one this rule counts."""
        return self.on in {"any", op} and (self.api_key is None or self.api_key == key)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.rule_id,
            "fault": self.fault.text,
            "on": self.on,
            "api_key": self.api_key,
            **self.firing.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class Action:
    """A fault decided for one call: what to do and the latency drawn (wall seconds)."""

    fault: Fault
    latency_s: float
    source: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"fault": self.fault.text, "latency_s": self.latency_s, "source": self.source}


class FaultBook:
    """Fault rules, the seeded rate and a log of every fault fired.

    ``armed`` is False while neither a rule nor a rate is set: the web layer then only looks
    for the header (if ``headers`` is on). The rate draws once per API call while it is set.
    """

    def __init__(self, seed: int, rate: float, kind: str, headers: bool = True) -> None:
        if not 0 <= rate <= 1:
            raise ValueError("fault rate must be in [0, 1]")
        try:
            self.rate_fault = parse(kind, "--fault-kind")
        except FaultError as exc:
            raise ValueError(exc.message.removeprefix("invalid request: ")) from None
        self.rate = rate
        self.headers = headers
        self.rules: list[FaultRule] = []
        self.log: FaultLog = deque(maxlen=LOG_SIZE)
        self.reseed(seed)

    @property
    def armed(self) -> bool:
        """Whether any rule or rate may fire (besides the header)."""
        return bool(self.rules) or self.rate > 0

    def reseed(self, seed: int) -> None:
        """Restart the random source; forget every rule and the log."""
        self.rng = random.Random(f"{seed}:faults")
        self.rules.clear()
        self.log.clear()
        self._next_id = 0

    def add(self, fault: Fault, on: str, api_key: str | None, firing: Firing) -> FaultRule:
        """Add a rule (checked after the header, before the rate, in insertion order)."""
        if on not in {"any", *OPS}:
            raise PiapiError(f"invalid request: /on: one of any, {', '.join(OPS)}")
        if len(self.rules) >= MAX_RULES:
            raise PiapiError(f"invalid request: at most {MAX_RULES} fault rules; delete some")
        self._next_id += 1
        rule = FaultRule(f"f{self._next_id}", fault, on, api_key, firing)
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

    def current(self) -> list[FaultRule]:
        """The rules in force, in the order they are checked."""
        return self.rules

    def decide(self, op: str, key: str | None, header: str | None, at: int) -> Action | None:
        """The fault for one call of ``op`` (None: answer normally); logged when one fires."""
        drawn = self.rng.random() < self.rate if self.rate else False
        fault, source = None, ""
        if header is not None and self.headers:
            fault, source = parse(header), "header"
        else:
            for rule in self.rules:
                if rule.applies(op, key) and rule.firing.fire():
                    fault, source = rule.fault, rule.rule_id
                    break
            else:
                if drawn:
                    fault, source = self.rate_fault, "rate"
        if fault is None:
            return None
        latency = 0.0
        if fault.latency_ms is not None:
            lo, hi = fault.latency_ms
            latency = (lo if lo == hi else self.rng.uniform(lo, hi)) / 1000
        action = Action(fault, latency, source)
        self.log.append({"at": at, "op": op, **action.as_dict()})
        return action
