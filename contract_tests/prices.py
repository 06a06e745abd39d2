"""The price oracle of the kit: costs in points from a table of the omni pack's ``prices/``.

An independent re-statement of the seed's billing rule (the kit never imports the fake's
domain): Kling 3.0 omni costs a price per output second by resolution and audio, the seconds
being ``duration`` (default 5) or the sum of ``multi_shots`` durations (default 3 each); o1
costs a price per clip of 5 or 10 s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final

from mock_server.resources import schemas_dir

DEFAULT_DURATION: Final = 5
DEFAULT_SHOT_DURATION: Final = 3
OMNI_PACK: Final = "kling-omni_video_generation"


@dataclass(frozen=True, slots=True)
class Prices:
    """A price table as the kit reads it."""

    name: str
    points_per_usd: int
    per_second: Mapping[str, Mapping[str, Decimal]]
    o1_per_clip: Mapping[str, Mapping[str, Decimal]]

    def usd(self, task_input: Mapping[str, Any]) -> Decimal:
        """The price in USD of a contract-valid omni input."""
        resolution = str(task_input.get("resolution", "720p"))
        if task_input.get("version") == "o1":
            return self.o1_per_clip[resolution][str(task_input.get("duration", 5))]
        audio = "audio" if task_input.get("enable_audio") else "no_audio"
        return self.per_second[resolution][audio] * seconds(task_input)

    def worst(self, task_input: Any) -> Decimal:
        """The price of any input, even an invalid one: the table's, else the dearest task.

        What the budget reserves before sending a request a server might wrongly accept.
        """
        try:
            return self.usd(task_input)
        except (KeyError, TypeError, ValueError, AttributeError):
            return self.dearest

    @property
    def dearest(self) -> Decimal:
        """The most a single task can cost (15 s at the dearest per-second rate, or a clip)."""
        per_second = max(v for row in self.per_second.values() for v in row.values())
        clip = max(v for row in self.o1_per_clip.values() for v in row.values())
        return max(per_second * 15, clip)

    @property
    def cheapest(self) -> Decimal:
        """The least a task can cost (one 1 s shot at the cheapest rate, or a clip)."""
        per_second = min(v for row in self.per_second.values() for v in row.values())
        clip = min(v for row in self.o1_per_clip.values() for v in row.values())
        return min(per_second, clip)

    def points(self, task_input: Mapping[str, Any]) -> int:
        """The price in points (1 USD = ``points_per_usd``), rounded half up."""
        exact = self.usd(task_input) * self.points_per_usd
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def seconds(task_input: Mapping[str, Any]) -> int:
    """Billed output seconds of a 3.0 input."""
    shots = task_input.get("multi_shots") or []
    if shots:
        return sum(int(s.get("duration", DEFAULT_SHOT_DURATION)) for s in shots)
    return int(task_input.get("duration", DEFAULT_DURATION))


@cache
def load_prices(name_or_path: str = "seed") -> Prices:
    """A table by name (``seed``, ``2026-02-13``) or from a JSON file path."""
    path = Path(name_or_path)
    if not path.is_file():
        path = schemas_dir() / "packs" / OMNI_PACK / "prices" / f"{name_or_path}.json"
    if not path.is_file():
        raise ValueError(f"unknown price table {name_or_path!r}")
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = data["rows"]
    per_second = {
        resolution: {"audio": cols["true"], "no_audio": cols["false"]}
        for resolution, cols in rows["per_second"].items()
    }
    return Prices(
        name=str(data["name"]),
        points_per_usd=int(data["points_per_usd"]),
        per_second=_decimals(per_second),
        o1_per_clip=_decimals(rows["o1_per_clip"]),
    )


def _decimals(table: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, Decimal]]:
    return {row: {col: Decimal(str(v)) for col, v in cols.items()} for row, cols in table.items()}
