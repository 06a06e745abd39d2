"""Domain errors. The web layer maps each to PiAPI's envelope ``{code, data: null, message}``
with the HTTP status in ``code``.

Guess: PiAPI publishes no error bodies; statuses follow its clients' handling (400 bad input,
401 key, 402 credits, 404 unknown task, 413 body too large) and messages name field and rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from mock_server.schema_registry import Violation


class PiapiError(Exception):
    """An error answered with the PiAPI error envelope."""

    status: int = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class InvalidRequest(PiapiError):
    """The body breaks the contract; ``violations`` say where and which rule."""

    status = 400

    def __init__(self, violations: Sequence[Violation], prefix: str = "invalid request") -> None:
        self.violations = list(violations)
        super().__init__(f"{prefix}: " + "; ".join(str(v) for v in self.violations))


class Unauthorized(PiapiError):
    """Missing, empty or unknown API key."""

    status = 401


class InsufficientCredits(PiapiError):
    """The account cannot pay for the task."""

    status = 402


class TaskNotFound(PiapiError):
    """No such task for this key (unknown, another key's, or past retention)."""

    status = 404

    def __init__(self, task_id: str) -> None:
        super().__init__(f"task {task_id} not found")


class NotCancellable(PiapiError):
    """Only pending tasks can be cancelled."""

    status = 400
