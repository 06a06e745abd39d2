"""The ``ledger`` step of :class:`mock_server.domain.store.TaskStore` in plain Python.

``memory://`` uses it as it is (one process: atomic because nothing else runs in between);
the SQLite and Redis stores implement the same rules inside a transaction or a Lua script,
and ``tests/stores/test_protocol.py`` checks all three alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mock_server.domain.store import Hold

OPS = ("", "freeze", "use", "track", "release")


@dataclass(slots=True)
class Wallet:
    """One account: frozen and used points, and the holds behind ``frozen``."""

    frozen: int = 0
    used: int = 0
    holds: dict[str, Hold] = field(default_factory=dict)

    def settle(self, now: int) -> None:
        """Settle every hold that ended by ``now``."""
        for hold in [h for h in self.holds.values() if 0 <= h.at <= now]:
            del self.holds[hold.task_id]
            self.frozen -= hold.cost
            if hold.ok:
                self.used += hold.cost

    def step(self, op: str, hold: Hold | None, limit: int) -> bool:
        """Apply ``op`` (after :meth:`settle`); False only when ``limit`` refuses it."""
        if op not in OPS:
            raise ValueError(f"unknown ledger op {op!r}")
        if not op or hold is None:
            return True
        held = self.holds.get(hold.task_id)
        if op in {"freeze", "use"} and held is None:
            if limit and self.used + self.frozen + hold.cost > limit:
                return False
            if op == "use":
                self.used += hold.cost
            else:
                self.frozen += hold.cost
                self.holds[hold.task_id] = hold
        elif op in {"freeze", "track"} and held is not None:
            self.holds[hold.task_id] = held._replace(at=hold.at, ok=hold.ok)
        elif op == "release" and held is not None:
            del self.holds[hold.task_id]
            self.frozen -= held.cost
        return True
