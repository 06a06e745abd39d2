"""The delivery log: every webhook attempt, assertable from Python and ``/_mock/webhooks``."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
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


class DeliveryLog:
    """The last ``size`` attempts, oldest first; ``count`` counts every attempt ever made."""

    def __init__(self, size: int) -> None:
        self._entries: deque[Attempt] = deque(maxlen=max(1, size))
        self.count = 0

    def record(self, attempt: Attempt) -> None:
        """Add an attempt."""
        self._entries.append(attempt)
        self.count += 1

    def clear(self) -> None:
        """Forget every attempt."""
        self._entries.clear()
        self.count = 0

    def __iter__(self) -> Iterator[Attempt]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def for_task(self, task_id: str) -> list[Attempt]:
        """The attempts for one task, oldest first."""
        return [a for a in self if a.task_id == task_id]

    def delivered(self, task_id: str | None = None) -> list[Attempt]:
        """Successful attempts (of one task if given)."""
        return [a for a in self if a.ok and (task_id is None or a.task_id == task_id)]
