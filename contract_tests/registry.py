"""The registry of checks: each a small function with a one-line docstring.

:func:`check` registers a function under its name; :class:`Checker` (in
:mod:`contract_tests.checks`) runs them by name. :func:`task_of` reads an answer's task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from contract_tests.endpoint import Exchange
from contract_tests.verdicts import Grade, guess

CheckFunction = Callable[..., None]
RANK: Final = {"staged": 0, "pending": 0, "processing": 1}
TERMINAL: Final = frozenset({"completed", "failed", "cancelled"})
ENDED: Final = frozenset({"failed", "cancelled"})


@dataclass(frozen=True, slots=True)
class Check:
    """A registered check: its name, function and one-line description."""

    name: str
    function: CheckFunction
    #: Set when the check itself is a guess of the kit (its failures are drift).
    grade: Grade | None = None

    @property
    def doc(self) -> str:
        """The first line of the function's docstring."""
        return (self.function.__doc__ or "").strip().splitlines()[0]


CHECKS: dict[str, Check] = {}


def check(function: CheckFunction) -> CheckFunction:
    """Register ``function`` as a check under its name."""
    CHECKS[function.__name__] = Check(function.__name__, function)
    return function


def guessed(reason: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check whose rule is the kit's guess (PiAPI documents nothing): drift."""

    def register(function: CheckFunction) -> CheckFunction:
        CHECKS[function.__name__] = Check(function.__name__, function, guess(reason))
        return function

    return register


def task_of(exchange: Exchange) -> dict[str, Any]:
    """``data`` of a success envelope (a check before this one validated it)."""
    body = exchange.json
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}
