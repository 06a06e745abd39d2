"""What the scenario and fault grammars share: comma-separated steps and bounded numbers.

Both header grammars (``X-Mock-Scenario``, ``X-Mock-Fault``) are 1-8 comma-separated steps
of the form ``name[:arg]``; errors are the caller's 400 error class, naming ``where``.
"""

from __future__ import annotations

import re
from typing import Final

from mock_server.domain.errors import PiapiError

MAX_STEPS: Final = 8
#: What a number may look like in a header or a query: ASCII digits, an optional ASCII
#: fraction, nothing else (``str.isdigit`` and ``float`` accept ``²``, ``١٢``, ``1e3``, ``inf``).
_NUMBER: Final = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,9})?")
_INTEGER: Final = re.compile(r"[0-9]{1,15}")


def ascii_number(text: str) -> float | None:
    """``text`` as a number if it is ASCII digits with an optional fraction, else None."""
    return float(text) if _NUMBER.fullmatch(text) else None


def ascii_int(text: str) -> int | None:
    """``text`` as an integer if it is 1-15 ASCII digits, else None."""
    return int(text) if _INTEGER.fullmatch(text) else None


def split_steps(text: str, where: str, error: type[PiapiError]) -> list[str]:
    """The lowercased, stripped steps of ``text`` (1 to 8, none empty)."""
    steps = [s.strip() for s in text.strip().lower().split(",")]
    if not text.strip() or len(steps) > MAX_STEPS or not all(steps):
        raise error(f"invalid request: {where}: expected 1-{MAX_STEPS} comma-separated steps")
    return steps


def bounded(
    text: str, where: str, error: type[PiapiError], unit: str, maximum: float, label: str
) -> float:
    """A number in ``0..maximum`` written in ASCII digits; ``label`` names it in the error."""
    value = ascii_number(text)
    if value is None:
        raise error(
            f"{where}: {text!r} is not a number of {unit} in ASCII digits (e.g. 1.5); "
            f"{label} must be between 0 and {maximum:g}"
        )
    if not 0 <= value <= maximum:
        raise error(f"{where}: {label} must be between 0 and {maximum:g}")
    return value
