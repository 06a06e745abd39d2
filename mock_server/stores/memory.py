"""``memory://``: live objects in this process, the default and the fastest store.

Records are the objects the backend changes, so :meth:`MemoryStore.put` has nothing to do. The
created-order index for :meth:`MemoryStore.scan` is two flat arrays (ids and sequence numbers,
16 bytes a task) beside the dict; removed ids are skipped. Removal is mostly of the oldest
(retention, the ``--max-tasks`` cap), so a head index walks past the dead front and the front
is cut off in one ``del`` (a pointer move) once it is half the arrays; only holes left behind
the head (a newer task evicted before an older unfinished one) are compacted by a full pass,
when they are half the arrays. (A full pass at every doubling stalled one create in 100,000
for about 250 ms at the default cap.)
"""

from __future__ import annotations

import bisect
from array import array
from collections import deque
from collections.abc import Iterator
from itertools import compress
from typing import Final

from mock_server.domain.models import TaskRecord
from mock_server.domain.store import DuplicateTask, Held, Hold, add_held_in_steps
from mock_server.stores.wallets import Wallet

#: Dead entries the index keeps before it trims or compacts (small stores never do).
_TRIM_AFTER: Final = 4096


class MemoryStore:
    """Records in an insertion-ordered dict (oldest first), plus counters, claims, kv, logs."""

    shared = False
    url = "memory://"

    def __init__(self) -> None:
        self._records: dict[str, TaskRecord] = {}
        self._ids: list[str] = []
        self._seqs: array[int] = array("q")
        #: Entries before ``_head`` are all removed; ``_dead`` counts every removed entry
        #: still in the arrays (before the head or not).
        self._head = 0
        self._dead = 0
        self._next = 0
        self._counters: dict[str, int] = {}
        self._claims: dict[str, str] = {}
        self._kv: dict[str, str] = {}
        self._logs: dict[str, deque[str]] = {}
        self._log_counts: dict[str, int] = {}
        self._wallets: dict[str, Wallet] = {}

    # -- tasks ------------------------------------------------------------------------------

    def add(self, record: TaskRecord, guard: tuple[str, str] | None = None) -> bool:
        if guard is not None and self._kv.get(guard[0]) != guard[1]:
            return False
        task_id = record.task_id
        if task_id in self._records:
            raise DuplicateTask(task_id)
        self._records[task_id] = record
        self._next += 1
        self._ids.append(task_id)
        self._seqs.append(self._next)
        return True

    def put(self, record: TaskRecord) -> None:
        """Nothing to do: the stored record is the object that changed."""

    def get(self, task_id: str) -> TaskRecord | None:
        return self._records.get(task_id)

    def read(self, task_id: str, key: str) -> tuple[TaskRecord | None, str | None]:
        return self._records.get(task_id), self._kv.get(key)

    def remove(self, task_id: str) -> None:
        if self._records.pop(task_id, None) is None:
            return
        self._dead += 1
        ids, live, head = self._ids, self._records, self._head
        while head < len(ids) and ids[head] not in live:
            head += 1
        self._head = head
        if head > _TRIM_AFTER and 2 * head > len(ids):
            del ids[:head]
            del self._seqs[:head]
            self._dead -= head
            self._head = 0
        elif self._dead - head >= max(len(ids) // 2, _TRIM_AFTER):
            self._compact()

    def _compact(self) -> None:
        live = self._records
        mask = [i in live for i in self._ids]
        self._ids = list(compress(self._ids, mask))
        self._seqs = array("q", compress(self._seqs, mask))
        self._head = self._dead = 0

    def scan(
        self, after: str | None = None, limit: int = 1000, *, hooks: bool = False
    ) -> tuple[list[TaskRecord], str]:
        start = bisect.bisect_right(self._seqs, int(after)) if after else 0
        start = max(start, self._head)
        found: list[TaskRecord] = []
        cursor = int(after) if after else 0
        ids, seqs, live = self._ids, self._seqs, self._records
        for index in range(start, len(ids)):
            if len(found) >= limit:
                break
            cursor = seqs[index]
            record = live.get(ids[index])
            if record is not None and (not hooks or record.webhook is not None):
                found.append(record)
        return found, str(cursor)

    def __iter__(self) -> Iterator[TaskRecord]:
        return iter(list(self._records.values()))

    def __reversed__(self) -> Iterator[TaskRecord]:
        """Newest first, lazily, without a copy (the dashboard reads only its newest page)."""
        return reversed(self._records.values())

    def __len__(self) -> int:
        return len(self._records)

    def clear(self) -> None:
        self._records.clear()
        self._ids.clear()
        self._seqs = array("q")
        self._head = self._dead = 0
        self._claims.clear()
        self._kv.clear()
        self._logs.clear()
        self._log_counts.clear()
        self._wallets.clear()

    # -- counters, claims, kv, logs -----------------------------------------------------------

    def incr(self, name: str, by: int = 1) -> int:
        value = self._counters[name] = self._counters.get(name, 0) + by
        return value

    def claim(self, key: str, holder: str) -> bool:
        if key in self._claims:
            return False
        self._claims[key] = holder
        return True

    def kv_get(self, key: str) -> str | None:
        return self._kv.get(key)

    def kv_set(self, key: str, value: str) -> None:
        self._kv[key] = value

    def append(self, log: str, entries: list[str], keep: int) -> None:
        found = self._logs.get(log)
        if found is None or found.maxlen != max(1, keep):
            found = self._logs[log] = deque(found or (), maxlen=max(1, keep))
        found.extend(entries)
        self._log_counts[log] = self._log_counts.get(log, 0) + len(entries)

    def tail(self, log: str, limit: int) -> list[str]:
        found = self._logs.get(log)
        if not found or limit <= 0:
            return []
        return list(found)[-limit:]

    def log_count(self, log: str) -> int:
        return self._log_counts.get(log, 0)

    def ledger(
        self, account: str, now: int, op: str = "", hold: Hold | None = None, limit: int = 0
    ) -> tuple[bool, int, int]:
        wallet = self._wallets.get(account)
        if wallet is None:
            wallet = self._wallets[account] = Wallet()
        wallet.settle(now)
        done = wallet.step(op, hold, limit)
        return done, wallet.frozen, wallet.used

    def add_held(
        self, record: TaskRecord, guard: tuple[str, str] | None, held: Held
    ) -> tuple[int, int, int]:
        return add_held_in_steps(self, record, guard, held)

    def kv_swap(self, key: str, old: str | None, new: str) -> bool:
        if self._kv.get(key) != old:
            return False
        self._kv[key] = new
        return True

    def close(self) -> None:
        """Nothing to release."""
