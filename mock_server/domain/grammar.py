"""What the scenario and fault grammars share: comma-separated steps and bounded numbers.

Both header grammars (``X-Mock-Scenario``, ``X-Mock-Fault``) are 1-8 comma-separated steps
of the form ``name[:arg]``; errors are the caller's 400 error class, naming ``where``.
"""

from __future__ import annotations

import math
from typing import Final

from mock_server.domain.errors import PiapiError

MAX_STEPS: Final = 8


def split_steps(text: str, where: str, error: type[PiapiError]) -> list[str]:
    """The lowercased, stripped steps of ``text`` (1 to 8, none empty)."""
    steps = [s.strip() for s in text.strip().lower().split(",")]
    if not text.strip() or len(steps) > MAX_STEPS or not all(steps):
        raise error(f"invalid request: {where}: expected 1-{MAX_STEPS} comma-separated steps")
    return steps


def bounded(
    text: str, where: str, error: type[PiapiError], unit: str, maximum: float, label: str
) -> float:
    """A finite number in ``0..maximum``; ``label`` names it in the range error."""
    try:
        value = float(text)
    except ValueError:
        raise error(f"{where}: {text!r} is not a number of {unit}") from None
    if not math.isfinite(value) or not 0 <= value <= maximum:
        raise error(f"{where}: {label} must be between 0 and {maximum:g}")
    return value
