"""Reading input values the way packs speak of them: defaults, text keys, seconds, dimensions."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from mock_server.packs.errors import PackError


def as_text(value: object) -> str:
    """A value as a table key or a ``when`` value: ``true``/``false`` for booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def as_seconds(value: object) -> int:
    """Whole seconds of a duration given as an integer or a string such as ``"8s"``."""
    if isinstance(value, bool):
        raise PackError(f"not a duration: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.removesuffix("s").isascii():
        digits = value.removesuffix("s")
        if digits.isdigit():
            return int(digits)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise PackError(f"not a duration: {value!r}")


@lru_cache(maxsize=256)
def dimensions(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    """Width and height of a frame: the short side is the resolution (``720p`` -> 720).

    Guess: PiAPI publishes no pixel sizes; these are the common ones for each ratio.
    """
    short = int(resolution.removesuffix("p")) if resolution.removesuffix("p").isdigit() else 720
    left, _, right = aspect_ratio.partition(":")
    if not (left.isdigit() and right.isdigit() and int(left) and int(right)):
        left, right = "16", "9"
    w, h = int(left), int(right)
    if w >= h:
        return _even(short * w / h), short
    return short, _even(short * h / w)


def _even(value: float) -> int:
    return int(round(value / 2) * 2)


def value_of(task_input: Mapping[str, Any], defaults: Mapping[str, Any], name: str) -> Any:
    """``task_input[name]``, or the pack's default for it (None if neither)."""
    found = task_input.get(name)
    return defaults.get(name) if found is None else found
