"""The OpenAPI 3.1 document is assembled from the schema files and is self-contained."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mock_server.schema_registry import default_registry
from mock_server.web.openapi import component_name, openapi_document
from tests.conftest import EXAMPLES


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_every_ref_resolves_inside_the_document() -> None:
    document = openapi_document()
    found = refs(document)
    assert len(found) > 20
    for ref in found:
        assert resolve(document, ref) is not None


def test_a_dangling_ref_would_be_caught() -> None:
    with pytest.raises(KeyError):
        resolve(openapi_document(), "#/components/schemas/nope")


def test_components_are_the_schema_files() -> None:
    schemas = openapi_document()["components"]["schemas"]
    assert set(schemas) >= {component_name(n) for n in default_registry().names}
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)
        assert "$id" not in schema


@pytest.mark.parametrize(
    "name", ["seed-request.json", "invalid/duration-16.json", "invalid/missing-prompt.json"]
)
def test_the_bundled_document_validates_like_the_registry(name: str) -> None:
    """Following the rewritten component refs gives the same verdict as the schema files."""
    document = openapi_document()
    body = document["paths"]["/api/v1/task"]["post"]["requestBody"]
    root = {**body["content"]["application/json"]["schema"], "components": document["components"]}
    payload = json.loads((EXAMPLES / name).read_text())
    bundled_ok = Draft202012Validator(root).is_valid(payload)
    assert bundled_ok == (default_registry().errors("request", payload) == [])
