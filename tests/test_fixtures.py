"""Golden fixtures: the seed's examples byte for byte, documented examples, one invalid per rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mock_server.contract_rules import request_violations
from mock_server.schema_registry import Violation, default_registry
from tests.conftest import EXAMPLES, ROOT

SEED = ROOT.parent / "shared" / "seed" / "000_267eb14836390a15.txt"
SEEDS = [EXAMPLES / "seed-request.json", EXAMPLES / "seed-response.json"]
VALID = [*sorted((EXAMPLES / "valid").glob("*.json")), *SEEDS]
MANIFEST: dict[str, dict[str, str]] = json.loads((EXAMPLES / "invalid-manifest.json").read_text())


def kind_of(path: Path) -> str:
    """``request-o1.json`` -> request; ``seed-response.json`` -> response."""
    return path.stem.removeprefix("seed-").split("-", 1)[0]


def violations(kind: str, payload: object) -> list[Violation]:
    if kind == "request":
        return request_violations(payload)
    return default_registry().errors(kind, payload)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_every_valid_example_validates(path: Path) -> None:
    assert violations(kind_of(path), json.loads(path.read_text())) == []


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_every_invalid_example_is_rejected_at_its_field(name: str) -> None:
    expected = MANIFEST[name]
    payload = json.loads((EXAMPLES / "invalid" / name).read_text())
    found = {(v.pointer, v.rule) for v in violations(expected["kind"], payload)}
    assert (expected["pointer"], expected["rule"]) in found, found


def test_every_invalid_file_is_in_the_manifest() -> None:
    files = {p.name for p in (EXAMPLES / "invalid").glob("*.json")}
    assert files == set(MANIFEST)


@pytest.mark.skipif(not SEED.exists(), reason="the seed document is not beside this checkout")
@pytest.mark.parametrize("name", ["seed-request.json", "seed-response.json"])
def test_seed_examples_are_copied_byte_for_byte(name: str) -> None:
    assert (EXAMPLES / name).read_bytes() in SEED.read_bytes()


def test_seed_response_is_the_multi_shot_example() -> None:
    data = json.loads((EXAMPLES / "seed-response.json").read_text())["data"]
    assert data["status"] == "pending"
    assert [s["duration"] for s in data["input"]["multi_shots"]] == [2, 3]
    assert data["meta"]["usage"]["frozen"] == 10_000_000
