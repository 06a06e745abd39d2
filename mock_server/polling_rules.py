"""How a well-behaved PiAPI client polls: rules over a client's requests *in time*.

PiAPI's docs tell clients to poll ``GET /api/v1/task/{id}`` until a terminal status (or to
use webhooks) and its answers to a rate limit carry ``Retry-After``. These rules catch what
request-shape checks cannot:

* ``poll after end`` - the client keeps polling a task it has already seen finished;
* ``poll interval`` - two polls of one task closer than ``min_interval`` seconds;
* ``Retry-After`` - a request sent again before the ``Retry-After`` of its 429 ran out;
* ``never stops`` - more than ``max_polls`` polls of one task (the client would poll forever).

Guess (documented nowhere): the numbers of :class:`PollPolicy`; they are configurable. Time is
whatever ``clock`` says, so a client that sleeps through a test's fake clock is judged in
that clock (the contract kit adds virtual seconds to the wall clock).

Pure Python: used by the contract kit's client router and fixtures; no web or domain import.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

_TASK: Final = re.compile(r"^/api/v1/task/([^/]+)$")
TERMINAL: Final = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """The limits a client is held to (every one configurable; 0 turns a limit off)."""

    #: Seconds at least between two polls of one task.
    min_interval: float = 1.0
    #: Polls allowed after the client was shown the task's terminal status.
    after_end: int = 1
    #: Polls of one task beyond which the client "never stops" (it is stopped there).
    max_polls: int = 300


@dataclass(frozen=True, slots=True)
class PollViolation:
    """A broken polling rule: the request, the task, the rule and what happened."""

    method: str
    path: str
    task_id: str
    rule: str
    message: str


class RunawayClient(BaseException):
    """Raised into a client that went past ``max_polls``, so that a loop without an end ends.

    A ``BaseException`` so that ``except Exception`` around a request cannot swallow it.
    """


@dataclass
class _Task:
    polls: list[float] = field(default_factory=list)
    ended: str = ""
    polls_after_end: int = 0


@dataclass
class PollWatch:
    """Feed it every request (:meth:`request`) and answer (:meth:`answered`); read ``found``."""

    policy: PollPolicy = field(default_factory=PollPolicy)
    clock: Callable[[], float] = field(default=lambda: 0.0)
    #: Raise :class:`RunawayClient` past ``max_polls`` (a server only records it: False).
    stop: bool = True
    found: list[PollViolation] = field(default_factory=list)
    _tasks: dict[str, _Task] = field(default_factory=dict)
    _blocked: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def request(self, method: str, path: str) -> None:
        """A request is about to be answered; may raise :class:`RunawayClient`."""
        now = self.clock()
        blocked = self._blocked.pop((method, path), None)
        if blocked is not None and now < blocked[0]:
            early = blocked[0] - now
            self._add(
                method,
                path,
                _task_id(path),
                "Retry-After",
                f"sent again {early:.1f} s before the Retry-After: {blocked[1]} of its 429 ran out",
            )
        task_id = _task_id(path) if method == "GET" else ""
        if task_id:
            self._poll(method, path, task_id, now)

    def answered(
        self, method: str, path: str, status: int, task_status: str, retry_after: str
    ) -> None:
        """The answer given: a 429's ``Retry-After``, a task's status."""
        if status == 429:
            try:
                wait = float(retry_after) if retry_after else 0.0
            except ValueError:
                wait = 0.0
            if wait > 0:
                self._blocked[(method, path)] = (self.clock() + wait, retry_after)
        task_id = _task_id(path) if method == "GET" else ""
        if task_id and status == 200 and task_status in TERMINAL:
            task = self._tasks.setdefault(task_id, _Task())
            task.ended = task.ended or task_status

    def _poll(self, method: str, path: str, task_id: str, now: float) -> None:
        task = self._tasks.setdefault(task_id, _Task())
        policy = self.policy
        last = task.polls[-1] if task.polls else None
        task.polls.append(now)
        if task.ended:
            task.polls_after_end += 1
            if policy.after_end >= 0 and task.polls_after_end > policy.after_end:
                message = (
                    f"task {task_id} was {task.ended} and the client polled it "
                    f"{task.polls_after_end} more time(s) ({self._history(task)})"
                )
                self._add(method, path, task_id, "poll after end", message)
        if policy.min_interval > 0 and last is not None and now - last < policy.min_interval:
            message = (
                f"task {task_id} polled {now - last:.2f} s after the previous poll, "
                f"at least {policy.min_interval:g} s due ({self._history(task)})"
            )
            self._add(method, path, task_id, "poll interval", message)
        if policy.max_polls > 0 and len(task.polls) > policy.max_polls:
            message = (
                f"task {task_id} polled {len(task.polls)} times, still "
                f"{task.ended or 'not finished'}: the client never stops ({self._history(task)})"
            )
            self._add(method, path, task_id, "never stops", message)
            if self.stop:
                raise RunawayClient(message)

    @staticmethod
    def _history(task: _Task) -> str:
        start = task.polls[0]
        times = [f"{t - start:.1f}" for t in task.polls[-6:]]
        more = "..., " if len(task.polls) > 6 else ""
        return f"{len(task.polls)} polls at +{more}{', '.join(times)} s"

    def _add(self, method: str, path: str, task_id: str, rule: str, message: str) -> None:
        key = (task_id or path, rule)
        if key in self._seen:
            return  # once per task and rule: the first time says it
        self._seen.add(key)
        self.found.append(PollViolation(method, path, task_id, rule, message))


def _task_id(path: str) -> str:
    match = _TASK.match(path)
    return match.group(1) if match else ""
