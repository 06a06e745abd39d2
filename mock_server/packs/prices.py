"""Price tables and price rules of packs: USD per second, per task or per unit, in points."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from mock_server.packs.errors import PackError
from mock_server.packs.values import as_text
from mock_server.provenance import Provenance, of


@dataclass(frozen=True, slots=True)
class PriceTable:
    """One table: ``rows`` nest by each key's value as text, down to a USD decimal."""

    name: str
    points_per_usd: int
    rows: Mapping[str, Any]
    provenance: Provenance

    @classmethod
    def load(cls, path: Path) -> PriceTable:
        """Read ``prices/<name>.json``; every leaf must be a decimal string."""
        data = json.loads(path.read_text(encoding="utf-8"))
        provenance = of(data)
        if provenance is None:
            raise PackError(f"{path}: a price table needs x-provenance")
        _check_leaves(data["rows"], path.name)
        return cls(str(data["name"]), int(data["points_per_usd"]), data["rows"], provenance)


@dataclass(frozen=True, slots=True)
class PriceRule:
    """How a variant is billed: ``per`` second, task or unit, from ``table`` by ``keys``."""

    per: str
    table: str
    keys: tuple[str, ...]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> PriceRule:
        """From a variant's ``price`` object."""
        per = str(data["per"])
        if per not in {"second", "task", "unit"}:
            raise PackError(f"price.per must be second, task or unit, not {per!r}")
        return cls(per, str(data["table"]), tuple(str(k) for k in data.get("keys", ())))

    def unit_usd(self, table: PriceTable, values: Mapping[str, object]) -> Decimal:
        """The table's price for these key values (a :class:`PackError` if it has none)."""
        node: Any = table.rows.get(self.table)
        if node is None:
            raise PackError(f"price table {table.name!r} has no rows {self.table!r}")
        for key in self.keys:
            text = as_text(values.get(key))
            if not isinstance(node, Mapping) or text not in node:
                raise PackError(f"no price in {table.name!r}/{self.table} for {key} = {text}")
            node = node[text]
        return Decimal(str(node))


def to_points(usd: Decimal, points_per_usd: int) -> int:
    """USD in whole points, rounded half up (PiAPI: 1 USD = 10,000,000 points)."""
    return int((usd * points_per_usd).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _check_leaves(node: object, where: str) -> None:
    if isinstance(node, Mapping):
        for value in node.values():
            _check_leaves(value, where)
        return
    try:
        Decimal(str(node))
    except InvalidOperation:
        raise PackError(f"{where}: {node!r} is not a price") from None
    if not isinstance(node, str):
        raise PackError(f"{where}: write prices as decimal strings, not {node!r}")
