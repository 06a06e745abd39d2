"""Prices from data files in ``fixtures/prices``; costs in PiAPI points (1 USD = 10^7 points).

Kling 3.0 omni is billed per output second by resolution and audio (with ``multi_shots``
the seconds are the sum of the shots); o1 per clip of 5 or 10 s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Final

from mock_server.resources import fixtures_dir

DEFAULT_DURATION: Final = 5
DEFAULT_SHOT_DURATION: Final = 3


@dataclass(frozen=True, slots=True)
class PriceTable:
    """A loaded price table."""

    name: str
    points_per_usd: int
    per_second: Mapping[str, Mapping[str, Decimal]]
    o1_per_clip: Mapping[str, Mapping[str, Decimal]]

    @classmethod
    def load(cls, name_or_path: str) -> PriceTable:
        """A table by name (``seed``, ``2026-02-13``) or from a JSON file path."""
        path = Path(name_or_path)
        if not path.is_file():
            path = fixtures_dir() / "prices" / f"{name_or_path}.json"
        if not path.is_file():
            known = sorted(p.stem for p in (fixtures_dir() / "prices").glob("*.json"))
            raise ValueError(f"unknown price table {name_or_path!r}; known: {', '.join(known)}")
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            name=str(data["name"]),
            points_per_usd=int(data["points_per_usd"]),
            per_second=_decimals(data["per_second"]),
            o1_per_clip=_decimals(data["o1_per_clip"]),
        )

    def usd(self, task_input: Mapping[str, Any]) -> Decimal:
        """The price in USD of a (valid) omni input."""
        resolution = str(task_input.get("resolution", "720p"))
        if task_input.get("version") == "o1":
            duration = str(task_input.get("duration", DEFAULT_DURATION))
            return self.o1_per_clip[resolution][duration]
        audio = "audio" if task_input.get("enable_audio") else "no_audio"
        return self.per_second[resolution][audio] * billed_seconds(task_input)

    def points(self, task_input: Mapping[str, Any]) -> int:
        """The price in points, rounded half up to a whole point."""
        exact = self.usd(task_input) * self.points_per_usd
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def billed_seconds(task_input: Mapping[str, Any]) -> int:
    """Output seconds: the sum of the shots when ``multi_shots`` is given, else ``duration``."""
    shots = task_input.get("multi_shots") or []
    if shots:
        return sum(int(s.get("duration", DEFAULT_SHOT_DURATION)) for s in shots)
    return int(task_input.get("duration", DEFAULT_DURATION))


def _decimals(table: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, Decimal]]:
    return {row: {col: Decimal(str(v)) for col, v in cols.items()} for row, cols in table.items()}
