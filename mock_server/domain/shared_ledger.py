"""Credit ledgers in a shared store (``sqlite://``, ``redis://``): one wallet per key for every
process.

:class:`StoreLedger` has :class:`~mock_server.domain.accounts.Ledger`'s interface, but each
wallet lives in the store and every change is one atomic :meth:`TaskStore.ledger` step: a
create's admission and its freeze are one check-and-add (two processes cannot both spend the
last credits), and the settlement of tasks that ended (consumed if completed, released if
failed) happens inside every step, up to the shared virtual clock's "now", whichever process
created the task. Cancels release, forced tasks and tasks started from the queue re-time
their hold, exactly as in one process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mock_server.domain.accounts import Account, Ledger
from mock_server.domain.errors import InsufficientCredits
from mock_server.domain.models import TaskRecord
from mock_server.domain.shared_batch import BatchedAdd
from mock_server.domain.store import Held, Hold, TaskStore


def hold_of(record: TaskRecord) -> Hold:
    """``record``'s points as the store holds them (end -1 while it waits for a slot)."""
    end = record.end_at
    at = -1 if end is None or record.cancelled_at is not None else end
    return Hold(record.task_id, record.cost, at, record.failure is None)


class StoreLedger(Ledger):
    """Every key's wallet in the store; ``now`` reads the (shared) virtual clock."""

    def __init__(self, store: TaskStore, credits: int, now: Callable[[], int]) -> None:
        super().__init__(credits)
        self.store = store
        self.now = now

    def _step(self, owner: str, op: str = "", hold: Hold | None = None) -> tuple[bool, int, int]:
        done, frozen, used = self.store.ledger(owner, self.now(), op, hold, self.credits)
        self.accounts[owner] = Account(frozen, used)  # the keys this process has seen
        return done, frozen, used

    def account(self, owner: str) -> Account:
        """``owner``'s wallet as the store has it now (``remain`` and ``fits``, inherited, read
        it: a first look, one round trip when the balance is limited; the create's store step
        decides atomically)."""
        _, frozen, used = self._step(owner)
        return Account(frozen, used)

    def freeze(self, record: TaskRecord) -> None:
        """Freeze (or, charged at create, consume) ``record``'s cost if it still fits the
        balance, in one store step; :class:`InsufficientCredits` (402) if it does not."""
        op = "use" if record.prepaid else "freeze"
        done, frozen, used = self._step(record.owner, op, hold_of(record))
        if not done:
            raise self._refused(record, frozen, used)

    def add_with(
        self,
        store: TaskStore,
        record: TaskRecord,
        guard: tuple[str, str] | None,
        listed: bool = True,
    ) -> bool:
        """Store ``record`` and freeze (or charge) its cost in one store step
        (:meth:`TaskStore.add_held`; ``listed``: :class:`Held`'s); False if the guard failed
        (nothing changed), :class:`InsufficientCredits` (402) if it no longer fits (nothing
        stored)."""
        held = self._held(record, listed)
        return self._booked(record, store.add_held(record, guard, held))

    async def add_batched(
        self,
        store: BatchedAdd,
        record: TaskRecord,
        guard: tuple[str, str] | None,
        listed: bool = True,
    ) -> bool:
        """:meth:`add_with`, the store step sent with concurrent requests' in one round trip."""
        held = self._held(record, listed)
        return self._booked(record, await store.add_held_batched(record, guard, held))

    def _held(self, record: TaskRecord, listed: bool) -> Held:
        op = "use" if record.prepaid else "freeze"
        return Held(record.owner, self.now(), op, hold_of(record), self.credits, listed)

    def _booked(self, record: TaskRecord, booked: tuple[int, int, int]) -> bool:
        stored, frozen, used = booked
        self.accounts[record.owner] = Account(frozen, used)
        if stored == -2:
            raise self._refused(record, frozen, used)
        return stored == 1

    def _refused(self, record: TaskRecord, frozen: int, used: int) -> InsufficientCredits:
        return InsufficientCredits(
            f"insufficient credits: the task costs {record.cost} points, "
            f"{max(0, self.credits - frozen - used)} points remain"
        )

    def track(self, record: TaskRecord) -> None:
        if not record.prepaid:
            self._step(record.owner, "track", hold_of(record))

    def release(self, record: TaskRecord) -> None:
        if not record.prepaid:
            self._step(record.owner, "release", hold_of(record))

    def settle(self, now: int) -> None:
        """Nothing to do: every store step settles its wallet first."""

    def wallet(self, owner: str) -> dict[str, Any]:
        wallet = self.account(owner)
        remain = self.credits - wallet.used - wallet.frozen if self.credits else 0
        return {"point_remain": remain, "point_frozen": wallet.frozen, "point_used": wallet.used}

    def clear(self) -> None:
        """Forget the keys seen here (the store's ``clear``, a reset, forgets the wallets)."""
        self.accounts.clear()
