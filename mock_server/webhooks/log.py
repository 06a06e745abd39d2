"""The delivery log: every webhook attempt, assertable from Python and ``/_mock/webhooks``."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mock_server.domain.render import rfc3339


@dataclass(frozen=True, slots=True)
class Attempt:
    """One POST to a receiver (or one refused before sending).

    ``at_ns`` is the virtual instant the attempt started; ``latency_ms`` is wall time.
    ``status`` is the receiver's HTTP status (None when there was no answer); ``error`` says
    why an attempt failed; ``result`` is delivered, retrying, gave_up or rejected.
    """

    event: str
    task_id: str
    url: str
    attempt: int
    at_ns: int
    status: int | None
    error: str
    latency_ms: float
    result: str
    redelivery: bool = False
    chaos: str = ""

    @property
    def ok(self) -> bool:
        """Whether the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "event": self.event,
            "task_id": self.task_id,
            "url": self.url,
            "attempt": self.attempt,
            "at": rfc3339(self.at_ns),
            "at_ns": self.at_ns,
            "status": self.status,
            "error": self.error,
            "latency_ms": round(self.latency_ms, 3),
            "result": self.result,
            "redelivery": self.redelivery,
            "chaos": self.chaos,
        }


#: What a log calls before every read: it logs what is due but not yet written.
Settle = Callable[[], object]
#: Refused attempts of one task as the log keeps them: (task id, url, error, lines), each
#: line an (instant, event) pair.
Refused = tuple[str, str, str, tuple[tuple[int, str], ...]]


def refused_attempt(event: str, task_id: str, url: str, at_ns: int, error: str) -> Attempt:
    """The first attempt of ``event`` to a refused endpoint: not sent, rejected."""
    return Attempt(event, task_id, url, 1, at_ns, None, error, 0.0, "rejected")


class DeliveryLog:
    """The last ``size`` attempts, oldest first; ``count`` counts every attempt ever made.

    Refused attempts are kept one entry per task and turn of the refused lane, as plain
    tuples (nothing for the garbage collector to walk), and become :class:`Attempt` objects
    when read. ``settle``, when set, is called before every read (the dispatcher's refused
    lane, whose lines are written after their instant: ``refused_lane``).
    """

    def __init__(self, size: int) -> None:
        self._size = max(1, size)
        self._entries: deque[Attempt | Refused] = deque()
        #: Attempts held, and how many of the oldest entry's lines were dropped already.
        self._held = 0
        self._skip = 0
        self._count = 0
        self.settle: Settle | None = None

    def record(self, attempt: Attempt) -> None:
        """Add an attempt."""
        self._entries.append(attempt)
        self._grew(1)

    def record_refused(self, entries: list[Refused]) -> int:
        """Add :func:`refused_attempt`'s attempt for each line of ``entries``; how many."""
        self._entries.extend(entries)
        lines = sum(len(entry[3]) for entry in entries)
        self._grew(lines)
        return lines

    def _grew(self, lines: int) -> None:
        self._count += lines
        self._held += lines
        while self._held > self._size:  # drop the oldest attempts
            first = self._entries[0]
            left = 1 if isinstance(first, Attempt) else len(first[3]) - self._skip
            excess = self._held - self._size
            if left <= excess:
                self._entries.popleft()
                self._held -= left
                self._skip = 0
            else:
                self._skip += excess
                self._held -= excess

    @property
    def count(self) -> int:
        """Attempts made since the last clear."""
        self._settle()
        return self._count

    def clear(self) -> None:
        """Forget every attempt."""
        self._entries.clear()
        self._count = self._held = self._skip = 0

    def _settle(self) -> None:
        if self.settle is not None:
            self.settle()

    def __iter__(self) -> Iterator[Attempt]:
        self._settle()
        found: list[Attempt] = []
        skip = self._skip
        for entry in self._entries:
            if isinstance(entry, Attempt):
                found.append(entry)
                continue
            task_id, url, error, lines = entry
            found += [refused_attempt(e, task_id, url, at, error) for at, e in lines[skip:]]
            skip = 0
        return iter(found)

    def __len__(self) -> int:
        self._settle()
        return self._held

    def for_task(self, task_id: str) -> list[Attempt]:
        """The attempts for one task, oldest first."""
        return [a for a in self if a.task_id == task_id]

    def delivered(self, task_id: str | None = None) -> list[Attempt]:
        """Successful attempts (of one task if given)."""
        return [a for a in self if a.ok and (task_id is None or a.task_id == task_id)]
