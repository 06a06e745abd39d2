"""Prices of every pack under one table name; costs in PiAPI points (1 USD = 10^7 points).

The rules and tables are pack data (``schemas/packs/<name>/prices/``); this module only picks
the table the settings name. Kling 3.0 omni is billed per output second by resolution and
audio (with ``multi_shots`` the seconds are the sum of the shots); o1 per clip of 5 or 10 s;
Kling 4 omni per second by resolution.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from mock_server.packs import Pack, PackBook, Variant
from mock_server.packs.errors import PackError
from mock_server.packs.model import Decision
from mock_server.packs.prices import PriceTable

#: The pack a price table given as a file path applies to (the seed's task type).
OMNI_PACK: Final = "kling-omni_video_generation"


class Prices:
    """The price of a task of any pack, by the table name (or file) of the settings."""

    def __init__(self, book: PackBook, name_or_path: str) -> None:
        self.name = name_or_path
        self._file: PriceTable | None = None
        if Path(name_or_path).suffix == ".json" or Path(name_or_path).is_file():
            self._file = _load_file(name_or_path)
            self.name = self._file.name
        elif not any(name_or_path in pack.prices for pack in book):
            known = sorted({table for pack in book for table in pack.prices})
            raise ValueError(f"unknown price table {name_or_path!r}; known: {', '.join(known)}")
        self.points_per_usd = book.named(OMNI_PACK).table(self.name).points_per_usd

    def table(self, pack: Pack) -> PriceTable:
        """The table this pack's tasks are priced by."""
        if self._file is not None and pack.name == OMNI_PACK:
            return self._file
        return pack.table(self.name)

    def usd(self, pack: Pack, task_input: Mapping[str, Any]) -> Decimal:
        """The price in USD of a (valid) input of ``pack``."""
        return pack.usd(task_input, self.table(pack))

    def points(
        self, pack: Pack, task_input: Mapping[str, Any], variant: Variant | None = None
    ) -> int:
        """The price in points, rounded half up to a whole point."""
        return pack.points(task_input, self.table(pack), variant)

    def decided_points(self, pack: Pack, decision: Decision, task_input: Mapping[str, Any]) -> int:
        """:meth:`points` memoised on the pack's decision for this input shape (hot path)."""
        found = decision.points.get(self)
        if found is None:
            found = self.points(pack, task_input, decision.variant)
            if len(decision.points) < 8:
                decision.points[self] = found
        return found


def _load_file(path: str) -> PriceTable:
    try:
        return PriceTable.load(Path(path))
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"price table {path}: {exc}") from exc


__all__ = ["PackError", "Prices"]
