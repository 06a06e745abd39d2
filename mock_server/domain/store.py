"""Where state lives: one narrow protocol, several stores (``mock_server/stores/``).

The domain talks only to :class:`TaskStore`. Each store keeps

- task records by id, with an index in created order (``scan`` from an opaque cursor),
  ``count`` (``len``) and ``remove`` (retention and caps prune through it);
- named counters (``incr``): boot generations, sequence numbers;
- an atomic claim (``claim``): the first caller wins, every other process loses (a webhook
  task is delivered by one process);
- a small key-value space (``kv_get``/``kv_set``): the shared clock, rules;
- bounded append-only logs (``append``/``tail``/``log_count``): the journal, the delivery log;
- per-key credit wallets (``ledger``): points frozen, consumed and released in one atomic
  step with the admission check (two processes cannot both spend the last credits);
- a compare-and-set (``kv_swap``): small shared values several processes edit (rules).

``memory://`` (:class:`mock_server.stores.memory.MemoryStore`) keeps live objects in this
process, exactly as before stores existed: ``put`` is a no-op there, because the records the
backend changes are the stored ones. ``shared`` is False for it; stores whose state other
processes (or a later run) see set it True, and the backend then keeps its clock, journal and
id generation in the store too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, NamedTuple, Protocol

from mock_server.domain.models import TaskRecord


class TaskStore(Protocol):
    """Storage of task records and the little shared state around them."""

    #: Whether other processes, or a later run, see this state (False: ``memory://``).
    shared: bool
    #: The URL the store was opened from (``memory://``, ``sqlite:///x.db``, ``redis://...``).
    url: str

    def add(self, record: TaskRecord, guard: tuple[str, str] | None = None) -> bool:
        """Store a new record (its id must be new: :class:`DuplicateTask` otherwise).

        With ``guard = (key, value)`` the record is stored only if the key-value space holds
        ``value`` at ``key`` (one atomic step); False means it was not stored.
        """
        ...

    def put(self, record: TaskRecord) -> None:
        """Save a changed record (cancelled, forced, started from the queue)."""
        ...

    def get(self, task_id: str) -> TaskRecord | None:
        """The record, or None."""
        ...

    def read(self, task_id: str, key: str) -> tuple[TaskRecord | None, str | None]:
        """``get(task_id)`` and ``kv_get(key)`` in one step (one round trip on a network)."""
        ...

    def remove(self, task_id: str) -> None:
        """Forget a record (no error if absent)."""
        ...

    def scan(
        self, after: str | None = None, limit: int = 1000, *, hooks: bool = False
    ) -> tuple[list[TaskRecord], str]:
        """Up to ``limit`` records in created order after cursor ``after`` (None: from the
        oldest), and the cursor to continue from (pass it back; stable across removals).
        ``hooks``: only records with a webhook (how other processes find them)."""
        ...

    def __iter__(self) -> Iterator[TaskRecord]:
        """Every record, oldest first."""
        ...

    def __len__(self) -> int:
        """How many records are stored."""
        ...

    def clear(self) -> None:
        """Forget every record, claim, log and key (counters survive: ids never repeat)."""
        ...

    def incr(self, name: str, by: int = 1) -> int:
        """Add ``by`` to counter ``name`` (created at 0); the new value."""
        ...

    def claim(self, key: str, holder: str) -> bool:
        """Atomically take ``key`` for ``holder``; True only for the first taker."""
        ...

    def kv_get(self, key: str) -> str | None:
        """A small value, or None."""
        ...

    def kv_set(self, key: str, value: str) -> None:
        """Set a small value."""
        ...

    def append(self, log: str, entries: list[str], keep: int) -> None:
        """Append ``entries`` to ``log``, keeping its last ``keep`` entries."""
        ...

    def tail(self, log: str, limit: int) -> list[str]:
        """The last ``limit`` entries of ``log``, oldest first."""
        ...

    def log_count(self, log: str) -> int:
        """How many entries were ever appended to ``log`` (since the last clear)."""
        ...

    def ledger(
        self,
        account: str,
        now: int,
        op: str = "",
        hold: Hold | None = None,
        limit: int = 0,
    ) -> tuple[bool, int, int]:
        """One atomic step on ``account``'s wallet; ``(done, frozen, used)`` after it.

        First every hold whose end ``at`` is ``<= now`` settles (its cost leaves ``frozen``
        and joins ``used`` if it ends ``ok``). Then ``op`` with ``hold``:

        - ``""``: nothing more (a read);
        - ``"freeze"``: a new hold (``frozen += cost``), only if ``used + frozen + cost <=
          limit`` (``limit`` 0: unlimited), else ``done`` is False; a hold already there is
          re-timed instead (as ``"track"``);
        - ``"use"``: ``used += cost`` now (charged at create), under the same limit;
        - ``"track"``: the hold's end or outcome changed (nothing if it is not held);
        - ``"release"``: the hold ends without charge (nothing if it is not held).
        """
        ...

    def kv_swap(self, key: str, old: str | None, new: str) -> bool:
        """Set ``key`` to ``new`` only if it holds ``old`` (None: absent); whether it did."""
        ...

    def add_held(
        self, record: TaskRecord, guard: tuple[str, str] | None, held: Held
    ) -> tuple[int, int, int]:
        """:meth:`add` and the :meth:`ledger` step ``held`` of the record's key as one step
        (one round trip on a network): ``(stored, frozen, used)``, ``stored`` 1 when both
        happened, 0 when the guard failed and -2 when the ledger refused (then neither
        happened); :class:`DuplicateTask` if the id exists."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


class Hold(NamedTuple):
    """A task's points held in a wallet: ``at`` is its end (-1 while unknown), ``ok`` whether
    it ends successfully (charged) or not (released)."""

    task_id: str
    cost: int
    at: int = -1
    ok: bool = True


class Held(NamedTuple):
    """The ledger step that goes with a new record (:meth:`TaskStore.add_held`).

    ``listed`` False: other processes' webhook senders need not find the record in the
    store's index of tasks with a webhook (its creator's policy refuses the endpoint, so the
    creator logs its events); a store may list it all the same (only Redis leaves it out)."""

    account: str
    now: int
    op: str
    hold: Hold
    limit: int = 0
    listed: bool = True


def add_held_in_steps(
    store: TaskStore, record: TaskRecord, guard: tuple[str, str] | None, held: Held
) -> tuple[int, int, int]:
    """:meth:`TaskStore.add_held` as a ledger step then an add (the hold given back if the add
    does not happen): for stores where a round trip costs nothing to speak of. The guard is
    looked at first, so a failed guard leaves the ledger alone (a charge at create, ``use``,
    cannot be given back; only a clock moved between that look and the add can leave one)."""
    if store.get(record.task_id) is not None:
        raise DuplicateTask(record.task_id)  # before the ledger: a hold of that id stays
    if guard is not None and store.kv_get(guard[0]) != guard[1]:
        return 0, *store.ledger(held.account, held.now)[1:]
    done, frozen, used = store.ledger(held.account, held.now, held.op, held.hold, held.limit)
    if not done:
        return -2, frozen, used
    try:
        stored = store.add(record, guard)
    except BaseException:
        store.ledger(held.account, held.now, "release", held.hold)
        raise
    if not stored:
        _, frozen, used = store.ledger(held.account, held.now, "release", held.hold)
        return 0, frozen, used
    return 1, frozen, used


#: Width of an end instant written as text (ends up to 9000 AD in ns exceed 64 bits; padded
#: digits compare exactly as text in Redis' sorted sets and SQLite).
AT_DIGITS: Final = 22


def at_text(at: int) -> str:
    """``at`` as fixed-width digits (``-`` for unknown)."""
    return "-" if at < 0 else f"{at:0{AT_DIGITS}d}"


class DuplicateTask(Exception):
    """A record with this id is already stored (ids never repeat, so this is a bug)."""
