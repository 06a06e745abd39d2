"""Per-key credit ledgers: points frozen on create, consumed on completion, released otherwise.

No scan of the tasks: each task's settlement is known once its end is known (failures are
decided at create), so a heap of (end instant, task id) settles lazily up to "now". A record
whose end changes (forced, started from the queue) is tracked again; stale entries are skipped.
The heap holds ids, not records: its entries are then plain tuples the garbage collector stops
walking after its first look (a task in flight costs the collector its record only).
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any

from mock_server.domain.models import TaskRecord


@dataclass(slots=True)
class Account:
    """One key's wallet, in points."""

    frozen: int = 0
    used: int = 0


@dataclass(slots=True)
class Ledger:
    """Every key's wallet. ``credits`` is the balance in points for each key; 0 is unlimited."""

    credits: int = 0
    accounts: dict[str, Account] = field(default_factory=dict)
    _open: dict[str, TaskRecord] = field(default_factory=dict)
    _heap: list[tuple[int, int, str]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def account(self, owner: str) -> Account:
        """``owner``'s wallet (created empty)."""
        found = self.accounts.get(owner)
        if found is None:
            found = self.accounts[owner] = Account()
        return found

    def remain(self, owner: str) -> int:
        """Points still spendable (meaningless when unlimited)."""
        wallet = self.account(owner)
        return self.credits - wallet.used - wallet.frozen

    def fits(self, owner: str, cost: int) -> bool:
        """Whether ``owner`` can freeze ``cost`` more points."""
        return not self.credits or self.remain(owner) >= cost

    def freeze(self, record: TaskRecord) -> None:
        """A new task: freeze its cost until it ends (or consume it now, if charged at create)."""
        if record.prepaid:
            self.account(record.owner).used += record.cost
            return
        self.account(record.owner).frozen += record.cost
        self._open[record.task_id] = record
        self.track(record)

    def track(self, record: TaskRecord) -> None:
        """Note ``record``'s (new) end instant, if it has one."""
        end = record.end_at
        if end is not None and record.task_id in self._open:
            heapq.heappush(self._heap, (end, next(self._seq), record.task_id))

    def release(self, record: TaskRecord) -> None:
        """Unfreeze without charge (cancel)."""
        if self._open.pop(record.task_id, None) is not None:
            self.account(record.owner).frozen -= record.cost

    def settle(self, now: int) -> None:
        """Settle every tracked task that ended at or before ``now``."""
        heap, open_ = self._heap, self._open
        while heap and heap[0][0] <= now:
            end, _, task_id = heapq.heappop(heap)
            record = open_.get(task_id)
            if record is None or record.end_at != end or record.cancelled_at is not None:
                continue  # stale: the task was settled, re-scheduled or cancelled
            del open_[task_id]
            wallet = self.account(record.owner)
            wallet.frozen -= record.cost
            if record.failure is None:
                wallet.used += record.cost

    def wallet(self, owner: str) -> dict[str, Any]:
        """``/account/info``'s ``wallet`` (remain is 0 when unlimited)."""
        wallet = self.account(owner)
        remain = self.remain(owner) if self.credits else 0
        return {"point_remain": remain, "point_frozen": wallet.frozen, "point_used": wallet.used}

    def clear(self) -> None:
        """Forget every wallet and task."""
        self.accounts.clear()
        self._open.clear()
        self._heap.clear()
