"""State kept in a shared store (``sqlite://``, ``redis://``) instead of this process.

:class:`StoreClock` is one virtual clock for every process on the store: its origin and speed
live in the store's key-value space; each process computes ``now`` from its cached copy and
re-reads it with every verb (a get reads it along with the record; a create is stored only
if the clock it used is still the stored one) and whenever the copy is older than
:data:`MAX_AGE_NS` of wall time. Wall time here is Unix time (``time.time_ns``), not a
monotonic clock, because the processes may run on several hosts (keep them NTP-synced).

:class:`StoreJournal` is the request journal as a store log, with :class:`Journal`'s
interface, written behind in batches.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Final

from mock_server.domain.clock import to_ns
from mock_server.domain.journal import Journal, JournalEntry
from mock_server.domain.store import TaskStore
from mock_server.domain.write_behind import WriteBehind

log = logging.getLogger("piapi_mock")

#: A cached clock older than this (wall ns) is re-read before use (50 ms). The API verbs do
#: not depend on it (a get reads the clock with the record, a create's write is guarded by
#: the clock it used); it bounds how stale ``/_mock/clock`` and the webhook loop may be.
MAX_AGE_NS: Final = 50_000_000
CLOCK_KEY: Final = "clock"
JOURNAL_LOG: Final = "journal"


class StoreClock:
    """Virtual time from ``(origin_virtual, origin_wall, speed)`` kept in the store."""

    def __init__(self, store: TaskStore, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.store = store
        now = time.time_ns()
        self._state = (now, now, speed)
        #: The stored text the state was read from (a guard for writes that used it).
        self.raw = ""
        self._read_at = 0
        if not self.refresh():
            self.save()

    def refresh(self) -> bool:
        """Re-read the shared state; whether the store had one."""
        return self.adopt(self.store.kv_get(CLOCK_KEY))

    def adopt(self, raw: str | None) -> bool:
        """Take the stored text read along with something else (None: keep the copy)."""
        self._read_at = time.monotonic_ns()
        if raw is None:
            return False
        if raw != self.raw:
            virtual, wall, speed = json.loads(raw)
            self._state, self.raw = (int(virtual), int(wall), float(speed)), raw
        return True

    def resync(self) -> int:
        """Re-read the shared state; how far (ns) ``now`` moved against this copy."""
        before = self._state
        self.refresh()
        wall = time.time_ns()
        return _at(self._state, wall) - _at(before, wall)

    def save(self) -> None:
        """Write this process's state to the store (start, after a reset)."""
        self.raw = json.dumps(list(self._state))
        self.store.kv_set(CLOCK_KEY, self.raw)

    def _fresh(self) -> tuple[int, int, float]:
        if time.monotonic_ns() - self._read_at > MAX_AGE_NS:
            self.refresh()
        return self._state

    @property
    def speed(self) -> float:
        return self._fresh()[2]

    def now(self) -> int:
        return _at(self._fresh(), time.time_ns())

    def advance(self, seconds: float) -> None:
        """Move every process's clock (read, shift, write: concurrent advances may merge)."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.refresh()
        virtual, wall, speed = self._state
        self._state = (virtual + to_ns(seconds), wall, speed)
        self.save()

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.refresh()
        now = self.now()
        self._state = (now, time.time_ns(), speed)
        self.save()

    def wall_delay(self, virtual_seconds: float) -> float | None:
        return max(0.0, virtual_seconds / self._fresh()[2])


def _at(state: tuple[int, int, float], wall_ns: int) -> int:
    """Virtual time at Unix instant ``wall_ns`` for clock ``state``."""
    virtual, wall, speed = state
    return virtual + int((wall_ns - wall) * speed)


_JSON: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _entry_text(entry: JournalEntry) -> str:
    return _JSON.encode(entry)  # a named tuple encodes as a list


class StoreJournal(Journal):
    """The journal as a store log shared by every process (``Journal``'s interface).

    Written behind, in batches (:class:`~mock_server.domain.write_behind.WriteBehind`: one
    round trip for many requests); every read of this process flushes first. Another process
    sees an entry at most a few milliseconds late.
    """

    def __init__(self, store: TaskStore, size: int = 1000) -> None:  # no super(): no deque
        self.store = store
        self.size = max(1, size)
        self._behind = WriteBehind(store, JOURNAL_LOG, self.size)

    def record(self, entry: JournalEntry) -> None:
        """Queue an entry for the store (the oldest falls off when full)."""
        self._behind.add(_entry_text(entry))

    def flush(self) -> None:
        """Append every queued entry now."""
        self._behind.flush()

    @property
    def call_count(self) -> int:
        """Requests journaled by every process since the last reset."""
        self.flush()
        return self.store.log_count(JOURNAL_LOG)

    @call_count.setter
    def call_count(self, value: int) -> None:
        """Ignored: the count lives in the store."""

    @property
    def calls(self) -> list[JournalEntry]:
        """The kept entries, oldest first."""
        self.flush()
        return [JournalEntry(*json.loads(t)) for t in self.store.tail(JOURNAL_LOG, self.size)]

    @property
    def last(self) -> JournalEntry | None:
        """The newest entry."""
        self.flush()
        found = self.store.tail(JOURNAL_LOG, 1)
        return JournalEntry(*json.loads(found[0])) if found else None

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.calls)

    def __len__(self) -> int:
        self.flush()
        return len(self.store.tail(JOURNAL_LOG, self.size))

    def clear(self) -> None:
        """Drop what is queued; the store's ``clear`` (a reset) forgets the rest."""
        self._behind.drop()
