"""The schema files: metaschema-valid, one $id base, loadable by the registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from mock_server.schema_registry import BASE_URI, KINDS, SchemaRegistry, default_registry
from tests.conftest import ROOT

SCHEMA_FILES = sorted((ROOT / "schemas").glob("*.json"))


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_schema_passes_the_draft_2020_12_metaschema(path: Path) -> None:
    document = json.loads(path.read_text())
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == BASE_URI + path.name
    Draft202012Validator.check_schema(document)


def test_every_kind_names_a_loaded_schema() -> None:
    registry = default_registry()
    assert set(KINDS.values()) <= set(registry.names)
    packs = {n for n in registry.names if n.startswith("packs/")}
    assert len(registry.names) == len(SCHEMA_FILES) + len(packs)
    assert {n.rsplit("/", 1)[1] for n in packs} == {"input.json", "request.json", "task.json"}


def test_a_schema_that_breaks_the_metaschema_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({"$id": BASE_URI + "bad.json", "type": "objekt"}))
    with pytest.raises(SchemaError):
        SchemaRegistry(tmp_path)


def test_a_schema_with_a_foreign_id_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"$id": "https://elsewhere/a.json"}))
    with pytest.raises(ValueError, match=r"\$id must be"):
        SchemaRegistry(tmp_path)


def test_refs_between_files_resolve() -> None:
    """The webhook schema reaches task.json, which reaches common.json and task-config.json."""
    registry = default_registry()
    violations = registry.errors("webhook", {"timestamp": 1, "data": {"status": "Done"}})
    pointers = {v.pointer for v in violations}
    assert "/data/status" in pointers
    assert "/data/meta" in pointers
