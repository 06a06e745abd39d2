"""Every rule says where it comes from; guesses are listed; strictness drops only guesses."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from mock_server import deviations
from mock_server.contract_rules import request_violations
from mock_server.provenance import Provenance
from mock_server.settings import Settings
from mock_server.web.app import create_asgi
from tests.conftest import ROOT, seed_request

RULES = list(deviations.constraint_rules())


def test_there_are_rules_to_check() -> None:
    assert len(RULES) > 80
    assert any(r.file.startswith("packs/") for r in RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.file}{r.pointer}")
def test_every_constraint_carries_provenance(rule: deviations.Rule) -> None:
    assert rule.provenance is not None, f"{rule.file} {rule.pointer} {rule.keywords}"
    assert "false" not in rule.keywords, "write {'not': {}} with a provenance, not false"


def test_the_walk_catches_a_constraint_without_provenance(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(
        json.dumps({"properties": {"x": {"type": "string"}, "y": {"not": {}}}})
    )
    missing = [r for r in deviations.constraint_rules(tmp_path) if r.provenance is None]
    assert [r.pointer for r in missing] == ["/properties/x", "/properties/y"]


def test_a_broken_annotation_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a non-empty 'reason'"):
        Provenance.from_annotation({"grade": "guess"})
    with pytest.raises(ValueError, match="grade must be one of"):
        Provenance.from_annotation({"grade": "rumour", "reason": "x"})


def test_the_readme_lists_exactly_the_generated_guesses() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert deviations.markdown() in readme, "run: piapi-mock deviations --write README.md"


def test_violations_carry_their_source() -> None:
    body = seed_request()
    body["input"]["prompt"] = "x" * 2501
    body["input"]["duration"] = 99
    found = {v.rule: v.provenance for v in request_violations(body)}
    assert found["maxLength"] is not None
    assert found["maxLength"].grade == "guess"
    assert found["maximum"] is not None
    assert found["maximum"].grade == "documented"


def test_documented_strictness_drops_guesses_only() -> None:
    body = seed_request()
    body["input"]["prompt"] = "x" * 2501
    assert [v.rule for v in request_violations(body)] == ["maxLength"]
    assert request_violations(body, strictness="documented") == []
    body["input"]["duration"] = 99
    assert [v.rule for v in request_violations(body, strictness="documented")] == ["maximum"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("change", "lenient"),
    [
        ({"prompt": "x" * 3000}, True),
        ({"images": ["not a url"]}, True),
        ({"duration": 16}, False),
        ({"resolution": "4k"}, False),
    ],
)
async def test_a_lenient_server_accepts_guessed_rules_only(
    change: dict[str, object], lenient: bool
) -> None:
    body = seed_request()
    body["input"].update(change)
    body["config"]["webhook_config"]["endpoint"] = ""
    for strictness, accepted in (("all", False), ("documented", lenient)):
        app = create_asgi(Settings(strictness=strictness))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
            response = await client.post("/api/v1/task", json=body, headers={"x-api-key": "k"})
        assert (response.status_code == 200) == accepted, (strictness, response.text)
