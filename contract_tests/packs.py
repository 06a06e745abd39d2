"""Every task type's pack as contract cases: its documented examples, valid and invalid.

The omni pack (``kling/omni_video_generation``) also has drawn strategies
(:mod:`contract_tests.strategies`, :mod:`contract_tests.invalid`); every pack, omni included,
contributes the request bodies of ``examples/valid/`` (sent within a budget, then cancelled)
and the labelled bodies of ``examples/invalid/`` (each breaking one rule named in
``invalid-manifest.json``). Each invalid case carries the grade of its rule, read from the
registry's violation (the ``x-provenance`` of the failing subschema), so a guessed rule the
server does not share is drift, and without a budget it is not sent to a real server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final

from contract_tests.invalid import Invalid
from contract_tests.verdicts import SCHEMA, Grade, grade_of
from mock_server.contract_rules import request_violations
from mock_server.packs import Pack, PackBook, book_for, default_book

OMNI: Final = "kling/omni_video_generation"
#: What a create of a pack whose price cannot be computed reserves.
UNKNOWN_PRICE: Final = Decimal("5")


@cache
def book(paths: tuple[str, ...] = ()) -> PackBook:
    """The shipped packs, plus the user packs at ``paths`` (as the fake's ``--pack``)."""
    return book_for(paths) if paths else default_book()


def packs(task_types: tuple[str, ...] = (), paths: tuple[str, ...] = ()) -> list[Pack]:
    """The packs (those of ``task_types`` if given), by ``model/task_type``."""
    found = sorted(book(paths), key=lambda p: p.pair)
    return [p for p in found if not task_types or p.pair in task_types]


def pairs(paths: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every ``model/task_type`` the kit can test."""
    return tuple(book(paths).supported)


@dataclass(frozen=True, slots=True)
class PackPrices:
    """A pack's price table in the form the checks use (``name``, ``usd``, ``points``)."""

    pack: Pack
    name: str

    def usd(self, task_input: Any) -> Decimal:
        """The price of a valid input."""
        return self.pack.usd(task_input, self.name)

    def points(self, task_input: Any) -> int:
        """The price in points."""
        return self.pack.points(task_input, self.name)

    def frozen_at_create(self, points: int) -> tuple[int, int]:
        """(frozen, consume) a create answer shows: prepaid packs consume at once, and
        ``usage.freeze: false`` (motion control) shows 0 frozen until the end."""
        if self.pack.charge == "create":
            return 0, points
        if not self.pack.raw.get("usage", {}).get("freeze", True):
            return 0, 0
        return points, 0

    def worst(self, task_input: Any) -> Decimal:
        """The price of any input (an invalid one reserves :data:`UNKNOWN_PRICE`)."""
        try:
            return self.usd(task_input)
        except Exception:
            return UNKNOWN_PRICE


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def valid_examples(pack: Pack) -> tuple[tuple[str, dict[str, Any]], ...]:
    """(file name, request body) of the pack's documented valid requests."""
    return _valid(pack.directory)


@cache
def _valid(directory: Path) -> tuple[tuple[str, dict[str, Any]], ...]:
    folder = directory / "examples" / "valid"
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        body = _read(path)
        if isinstance(body, dict) and "input" in body and "model" in body:
            found.append((path.name, body))
    return tuple(found)


def invalid_examples(pack: Pack) -> tuple[Invalid, ...]:
    """The pack's labelled invalid requests, each with the grade of the rule it breaks."""
    return _invalid(pack.directory, pack.name)


@cache
def _invalid(directory: Path, name: str) -> tuple[Invalid, ...]:
    folder = directory / "examples"
    manifest = folder / "invalid-manifest.json"
    if not manifest.is_file():
        return ()
    found = []
    for file, label in sorted(_read(manifest).items()):
        if label.get("kind", "request") != "request":
            continue
        body = _read(folder / "invalid" / file)
        pointer, rule = str(label["pointer"]), str(label["rule"])
        grade = _grade(body, pointer, rule)
        schema = f"schemas/packs/{name}/input.json"
        found.append(Invalid(f"{name}/{file}", pointer, rule, body, grade, schema))
    return tuple(found)


def _grade(body: Any, pointer: str, rule: str) -> Grade:
    violations = request_violations(body)
    same = [v for v in violations if (v.pointer, v.rule) == (pointer, rule)]
    for violation in same or violations[:1]:
        known = grade_of(violation)
        if known is not None:
            return known
    return SCHEMA
