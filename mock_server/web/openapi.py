"""The OpenAPI 3.1 document of the faked API, assembled from ``schemas/`` (never rewritten).

Each schema file becomes ``components/schemas/<name>``; ``$ref``s between files are rewritten
to component pointers. The ``/_mock`` control plane is deliberately absent.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any
from urllib.parse import urljoin

from mock_server import __version__
from mock_server.schema_registry import BASE_URI, default_registry


def component_name(file_name: str) -> str:
    """``task-response.json`` -> ``task-response``; ``packs/p/input.json`` -> ``packs.p.input``."""
    return file_name.removesuffix(".json").replace("/", ".")


def _rewrite(node: Any, current: str) -> Any:
    """``node`` of file ``current`` with every ``$ref`` pointing at a component."""
    if isinstance(node, dict):
        out = {k: _rewrite(v, current) for k, v in node.items() if k not in {"$id", "$schema"}}
        ref = node.get("$ref")
        if isinstance(ref, str):
            target, _, fragment = ref.partition("#")
            resolved = urljoin(BASE_URI + current, target).removeprefix(BASE_URI)
            out["$ref"] = f"#/components/schemas/{component_name(resolved)}{fragment}"
        return out
    if isinstance(node, list):
        return [_rewrite(v, current) for v in node]
    return node


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _errors() -> dict[str, Any]:
    return {
        str(code): _json("error-envelope", text)
        for code, text in [(400, "invalid request"), (401, "missing or invalid key")]
    }


@cache
def _document() -> dict[str, Any]:
    registry = default_registry()
    schemas = {component_name(n): _rewrite(registry.schema(n), n) for n in registry.names}
    requests = [_ref(component_name(n)) for n in sorted(registry.request_schemas())]
    key: list[dict[str, list[str]]] = [{"apiKey": []}]
    task_id = [{"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "PiAPI task API (Kling omni) as faked by piapi-mock",
            "version": __version__,
        },
        "servers": [{"url": "https://api.piapi.ai"}],
        "security": key,
        "paths": {
            "/api/v1/task": {
                "post": {
                    "operationId": "createTask",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"oneOf": requests}}},
                    },
                    "responses": {"200": _json("task-response", "the pending task"), **_errors()},
                }
            },
            "/api/v1/task/{task_id}": {
                "parameters": task_id,
                "get": {
                    "operationId": "getTask",
                    "responses": {
                        "200": _json("task-response", "the task now"),
                        **_errors(),
                        "404": _json("error-envelope", "unknown task"),
                    },
                },
                "delete": {
                    "operationId": "cancelTask",
                    "responses": {
                        "200": _json("cancel-response", "cancelled"),
                        **_errors(),
                        "404": _json("error-envelope", "unknown task"),
                    },
                },
            },
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
        },
    }


def openapi_document() -> dict[str, Any]:
    """A fresh copy of the document."""
    return copy.deepcopy(_document())
