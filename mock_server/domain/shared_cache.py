"""Finished task records kept in this process, so a get of a finished task makes no round trip.

A finished record (completed, failed or cancelled at the shared clock's now) never changes:
forcing or cancelling an ended task is refused, and time only moves forward. It can only
*disappear*: a reset, the ``--max-tasks`` eviction, a removal. A shared store that supports
this cache counts every change it makes to a stored record (``put``, ``remove``, ``clear``) in
a store counter, the *epoch* (``TaskStore.incr(EPOCH)``), and in a local count
(``changes``) for the changes this process made itself.

:class:`FinishedCache` trusts its entries while the epoch it read is at most
:data:`~mock_server.domain.shared_rules.LEASE_S` old (20 ms of wall time, from the moment the
read started) and this process changed nothing since; past that, the next get re-reads the
epoch (one small round trip per 20 ms while gets flow) and drops every entry when it moved.
So a change made by this process is seen at once, and one made by another process within
20 ms. A reset answers only after those 20 ms (the rules' wait,
:func:`~mock_server.domain.shared_rules.propagated`): once ``POST /_mock/reset`` answers, no
process serves an old task. Deviation from one process: a task evicted by ``--max-tasks`` on
another process may still be read here for up to 20 ms.

Only used with ``--retention 0`` (the default): with a retention, whether a finished task is
still there depends on the shared clock, which a cache hit does not read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final, Protocol, runtime_checkable

from mock_server.domain.models import TaskRecord
from mock_server.domain.shared_rules import LEASE_S

#: The store counter every change to a stored record moves.
EPOCH: Final = "epoch"
#: Finished records kept per process (the oldest goes first).
KEPT: Final = 4096
LEASE_NS: Final = int(LEASE_S * 1e9)


@runtime_checkable
class CountsChanges(Protocol):
    """A shared store that moves :data:`EPOCH` at every change of a stored record."""

    #: Changes this process made (put, remove, clear) since the store was opened.
    changes: int

    def incr(self, name: str, by: int = 1) -> int: ...


#: (the epoch, this process's change count) an entry was read under.
Token = tuple[int, int]


class FinishedCache:
    """Finished records by task id, valid while the store's epoch is known not to have moved."""

    def __init__(
        self, store: CountsChanges, wall_ns: Callable[[], int] = time.monotonic_ns
    ) -> None:
        self.store = store
        self._wall_ns = wall_ns
        self._records: dict[str, TaskRecord] = {}
        self._epoch = -1
        self._local = store.changes
        self._read_at: int | None = None

    def get(self, task_id: str) -> TaskRecord | None:
        """The kept record of ``task_id`` (None: ask the store)."""
        if not self._records:
            return None
        self.token()
        return self._records.get(task_id)

    def token(self) -> Token:
        """What a record read from now on is current for (re-reads the epoch when stale)."""
        if self.store.changes != self._local:
            self._records.clear()
            self._local = self.store.changes
            self._read_at = None
        read_at = self._read_at
        if read_at is None or self._wall_ns() - read_at >= LEASE_NS:
            started = self._wall_ns()
            epoch = self.store.incr(EPOCH, 0)
            if epoch != self._epoch:
                self._records.clear()
                self._epoch = epoch
            self._read_at = started
        return self._epoch, self._local

    def keep(self, token: Token, record: TaskRecord) -> None:
        """Keep ``record`` (finished, read after ``token`` was taken) if nothing moved since."""
        if token != (self._epoch, self._local) or self.store.changes != self._local:
            return
        records = self._records
        if len(records) >= KEPT and record.task_id not in records:
            del records[next(iter(records))]
        records[record.task_id] = record

    def __len__(self) -> int:
        return len(self._records)
