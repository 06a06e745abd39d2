"""Outcome and fault rules in a shared store: a rule posted to one process applies on all.

Each book's rules are one JSON list in the store's key-value space, edited by compare-and-set
(:meth:`TaskStore.kv_swap`: two processes adding at once both land). Every process uses a
cached copy for at most :data:`LEASE_S` of wall time from the moment it started reading it,
and a process that changes the rules answers only after :data:`LEASE_S` has passed
(:func:`propagated`, awaited by the control routes): once ``POST /_mock/rules`` answers,
every process applies the new rule, at the cost of one small read per :data:`LEASE_S` per
process while calls flow (and a 20 ms slower control call).

``times``/``every`` are one counter per rule in the store (:meth:`TaskStore.incr`): the n-th
matching call across all processes fires when ``n % every == 0`` and ``n // every <= times``,
exactly one process's rule. Rule ids come from a store counter too, so they never repeat, not
even after a reset (deviation from one process, where a reset starts again at ``r1``/``f1``).
Fired faults go to one store log. The seeded ``--failure-rate``/``--fault-rate`` draws stay
per process (each process draws from its own seeded source).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any, Final

from mock_server.domain import faults, scenarios
from mock_server.domain.errors import PiapiError
from mock_server.domain.faults import FaultBook, FaultRule
from mock_server.domain.scenarios import Firing, OutcomeRule, Scenario, ScenarioBook
from mock_server.domain.store import TaskStore

#: How long a process trusts its copy of the rules (wall seconds, from the start of the read).
LEASE_S: Final = 0.02
FAULT_LOG: Final = "faults"


async def propagated(shared: bool) -> None:
    """Wait until every process's copy of the rules is at least as new as this change."""
    if shared:
        await asyncio.sleep(LEASE_S + 0.002)


class StoreFiring(Firing):
    """``times``/``every`` over a counter in the store (every process counts the same calls)."""

    def __init__(self, store: TaskStore, rule_id: str, times: int | None, every: int) -> None:
        super().__init__(times, every)
        self.store = store
        self.name = f"fire:{rule_id}"

    def fire(self) -> bool:
        seen = self.store.incr(self.name)
        return not seen % self.every and (self.times is None or seen // self.every <= self.times)

    def _counts(self) -> tuple[int, int]:
        seen = self.store.incr(self.name, 0)
        fired = seen // self.every
        return seen, fired if self.times is None else min(fired, self.times)

    @property
    def spent(self) -> bool:
        return self.times is not None and self._counts()[1] >= self.times

    def as_dict(self) -> dict[str, Any]:
        seen, fired = self._counts()
        return {"times": self.times, "every": self.every, "seen": seen, "fired": fired}


class RuleList:
    """One book's rules as a JSON list in the store, with a leased local copy."""

    def __init__(self, store: TaskStore, key: str) -> None:
        self.store = store
        self.key = key
        self.raw: str | None = None
        self.items: list[dict[str, Any]] = []
        self._read_at = -1.0

    def stale(self) -> bool:
        """Whether the copy must be re-read before use."""
        return time.monotonic() - self._read_at >= LEASE_S

    def load(self) -> bool:
        """Re-read the list; whether it changed."""
        started = time.monotonic()
        raw = self.store.kv_get(self.key)
        self._read_at = started
        if raw == self.raw:
            return False
        self.raw, self.items = raw, json.loads(raw) if raw else []
        return True

    def edit(self, change: Any) -> Any:
        """Apply ``change(items) -> result`` by compare-and-set (retried on a race)."""
        while True:
            raw = self.store.kv_get(self.key)
            items: list[dict[str, Any]] = json.loads(raw) if raw else []
            result = change(items)
            if self.store.kv_swap(self.key, raw, json.dumps(items, separators=(",", ":"))):
                self._read_at = -1.0
                return result

    def forget(self) -> None:
        """Drop the copy (a reset)."""
        self.raw, self.items, self._read_at = None, [], -1.0


def _remove(rule_id: str) -> Any:
    def change(items: list[dict[str, Any]]) -> bool:
        kept = [i for i in items if i["id"] != rule_id]
        found = len(kept) != len(items)
        items[:] = kept
        return found

    return change


def _append(entry: dict[str, Any], limit: str) -> Any:
    def change(items: list[dict[str, Any]]) -> None:
        if len(items) >= faults.MAX_RULES:
            raise PiapiError(
                f"invalid request: at most {faults.MAX_RULES} {limit} rules; delete some"
            )
        items.append(entry)

    return change


def _clear(items: list[dict[str, Any]]) -> None:
    items.clear()


class StoreScenarioBook(ScenarioBook):
    """:class:`ScenarioBook` whose rules and counters every process shares."""

    def __init__(
        self, store: TaskStore, seed: int, failure_rate: float, rates: tuple[str, ...]
    ) -> None:
        self.store = store
        self.shared = RuleList(store, "rules:outcome")
        super().__init__(seed, failure_rate, rates)

    def _fresh(self) -> None:
        if self.shared.stale() and self.shared.load():
            self.rules[:] = [self._rule(i) for i in self.shared.items]

    def _rule(self, item: Mapping[str, Any]) -> OutcomeRule:
        firing = StoreFiring(self.store, item["id"], item["times"], item["every"])
        return OutcomeRule(item["id"], scenarios.parse(item["scenario"]), item["match"], firing)

    def reseed(self, seed: int) -> None:
        super().reseed(seed)
        self.shared.forget()

    def add(self, scenario: Scenario, match: dict[str, Any], firing: Firing) -> OutcomeRule:
        rule_id = f"r{self.store.incr('rule-id:outcome')}"
        entry: dict[str, Any] = {"id": rule_id, "scenario": scenario.text, "match": match}
        entry |= {"times": firing.times, "every": firing.every}
        self.shared.edit(_append(entry, "outcome"))
        return self._rule(entry)

    def remove(self, rule_id: str) -> bool:
        found: bool = self.shared.edit(_remove(rule_id))
        return found

    def clear(self) -> None:
        self.shared.edit(_clear)

    def current(self) -> list[OutcomeRule]:
        self._fresh()
        return self.rules

    def choose(
        self, owner: str, task_input: Mapping[str, Any], requested: Scenario | None
    ) -> Scenario | None:
        self._fresh()
        return super().choose(owner, task_input, requested)


class StoreFaultLog:
    """Fired faults as one store log (``FaultLog``'s interface)."""

    def __init__(self, store: TaskStore) -> None:
        self.store = store

    def append(self, entry: dict[str, Any]) -> None:
        self.store.append(FAULT_LOG, [json.dumps(entry, separators=(",", ":"))], faults.LOG_SIZE)

    def clear(self) -> None:
        """Nothing to do: a reset clears the store."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter([json.loads(t) for t in self.store.tail(FAULT_LOG, faults.LOG_SIZE)])


class StoreFaultBook(FaultBook):
    """:class:`FaultBook` whose rules, counters and log every process shares."""

    def __init__(
        self, store: TaskStore, seed: int, rate: float, kind: str, headers: bool = True
    ) -> None:
        self.store = store
        self.shared = RuleList(store, "rules:fault")
        super().__init__(seed, rate, kind, headers)
        self.log: faults.FaultLog = StoreFaultLog(store)

    def _fresh(self) -> None:
        if self.shared.stale() and self.shared.load():
            self.rules[:] = [self._rule(i) for i in self.shared.items]

    def _rule(self, item: Mapping[str, Any]) -> FaultRule:
        firing = StoreFiring(self.store, item["id"], item["times"], item["every"])
        fault = faults.parse(item["fault"])
        return FaultRule(item["id"], fault, item["on"], item["api_key"], firing)

    @property
    def armed(self) -> bool:
        self._fresh()
        return bool(self.rules) or self.rate > 0

    def reseed(self, seed: int) -> None:
        super().reseed(seed)
        self.shared.forget()

    def add(self, fault: faults.Fault, on: str, api_key: str | None, firing: Firing) -> FaultRule:
        if on not in {"any", *faults.OPS}:
            raise PiapiError(f"invalid request: /on: one of any, {', '.join(faults.OPS)}")
        rule_id = f"f{self.store.incr('rule-id:fault')}"
        entry: dict[str, Any] = {"id": rule_id, "fault": fault.text, "on": on}
        entry["api_key"] = api_key
        entry |= {"times": firing.times, "every": firing.every}
        self.shared.edit(_append(entry, "fault"))
        return self._rule(entry)

    def remove(self, rule_id: str) -> bool:
        found: bool = self.shared.edit(_remove(rule_id))
        return found

    def clear(self) -> None:
        self.shared.edit(_clear)

    def current(self) -> list[FaultRule]:
        self._fresh()
        return self.rules

    def decide(self, op: str, key: str | None, header: str | None, at: int) -> faults.Action | None:
        self._fresh()
        return super().decide(op, key, header, at)
