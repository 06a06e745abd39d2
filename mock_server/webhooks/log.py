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
#: A refused attempt as the log keeps it: (event, task id, url, at_ns, error).
Refused = tuple[str, str, str, int, str]


def refused_attempt(event: str, task_id: str, url: str, at_ns: int, error: str) -> Attempt:
    """The first attempt of ``event`` to a refused endpoint: not sent, rejected."""
    return Attempt(event, task_id, url, 1, at_ns, None, error, 0.0, "rejected")


def _attempt(entry: Attempt | Refused) -> Attempt:
    return entry if type(entry) is Attempt else refused_attempt(*entry)  # type: ignore[misc]


class DeliveryLog:
    """The last ``size`` attempts, oldest first; ``count`` counts every attempt ever made.

    ``settle``, when set, is called before every read (the dispatcher's refused lane, whose
    lines are written after their instant: ``refused_lane``).
    """

    def __init__(self, size: int) -> None:
        self._entries: deque[Attempt | Refused] = deque(maxlen=max(1, size))
        self._count = 0
        self.settle: Settle | None = None

    def record(self, attempt: Attempt) -> None:
        """Add an attempt."""
        self._entries.append(attempt)
        self._count += 1

    def record_refused(
        self, task_id: str, url: str, error: str, lines: list[tuple[int, str]]
    ) -> None:
        """Add :func:`refused_attempt`'s attempt for each (instant, event) of ``lines``
        (kept as tuples until read: the refused lane logs three per task, most of them never
        read)."""
        self._entries.extend([(event, task_id, url, at, error) for at, event in lines])
        self._count += len(lines)

    @property
    def count(self) -> int:
        """Attempts made since the last clear."""
        self._settle()
        return self._count

    def clear(self) -> None:
        """Forget every attempt."""
        self._entries.clear()
        self._count = 0

    def _settle(self) -> None:
        if self.settle is not None:
            self.settle()

    def __iter__(self) -> Iterator[Attempt]:
        self._settle()
        return iter([_attempt(entry) for entry in self._entries])

    def __len__(self) -> int:
        self._settle()
        return len(self._entries)

    def for_task(self, task_id: str) -> list[Attempt]:
        """The attempts for one task, oldest first."""
        return [a for a in self if a.task_id == task_id]

    def delivered(self, task_id: str | None = None) -> list[Attempt]:
        """Successful attempts (of one task if given)."""
        return [a for a in self if a.ok and (task_id is None or a.task_id == task_id)]
