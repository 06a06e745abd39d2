"""A bounded journal of the requests the fake answered, readable from Python and ``/_mock``."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any, NamedTuple


class JournalEntry(NamedTuple):
    """One answered request (a named tuple: cheap to build on the request path)."""

    at: int
    method: str
    path: str
    status: int
    task_id: str = ""
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return self._asdict()


#: A journal entry as the journal keeps it: a plain tuple of its fields. The garbage collector
#: stops walking a plain tuple of strings and ints after its first look, not a named tuple,
#: and an entry lives for ``size`` requests (long enough to reach the oldest generation).
Row = tuple[int, str, str, int, str, str]


class Journal:
    """The last ``size`` requests, oldest first (respx-style ``calls``/``last``/``call_count``)."""

    def __init__(self, size: int = 1000) -> None:
        self._entries: deque[Row] = deque(maxlen=max(1, size))
        self.call_count = 0

    def record(self, entry: JournalEntry) -> None:
        """Append an entry (the oldest falls off when full)."""
        self._entries.append(tuple(entry))  # type: ignore[arg-type]
        self.call_count += 1

    def add(
        self, at: int, method: str, path: str, status: int, task_id: str = "", message: str = ""
    ) -> None:
        """``record(JournalEntry(at, method, path, status, task_id, message))``, without the
        entry object here (the hot routes journal every request); a journal that records
        entries its own way (a subclass overriding :meth:`record`) is given the entry."""
        if type(self).record is not Journal.record:
            self.record(JournalEntry(at, method, path, status, task_id, message))
            return
        self._entries.append((at, method, path, status, task_id, message))
        self.call_count += 1

    @property
    def calls(self) -> list[JournalEntry]:
        """The kept entries, oldest first."""
        return [JournalEntry._make(row) for row in self._entries]

    @property
    def last(self) -> JournalEntry | None:
        """The newest entry."""
        return JournalEntry._make(self._entries[-1]) if self._entries else None

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.calls)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
        self.call_count = 0
