"""The OpenAPI 3.1 document of the faked API, true for the running fake (issue #11: 13).

Every route the fake answers outside ``/_mock`` is here (create, get, cancel in both
spellings, ``/account/info``, ``/storage/videos/{task_id}.mp4``, this document), with every
status it can answer and the media type of each. ``servers`` is the running fake's own URL
(``--public-url``, else the URL the document was requested at). Schemas come from
``schemas/`` (each file becomes ``components/schemas/<name>``, its ``$ref``s rewritten);
request bodies come from :func:`request_schema_names`, the one place to point at task-type
packs once they exist. The ``/_mock`` control plane is deliberately absent (it is not PiAPI).

Where the fake is stricter than JSON Schema can say, the document says so in words
(``x-piapi-mock-stricter``): integers must be written as integers (``5`` not ``5.0``, like
Go's decoder), and the rules ``contract_rules.py`` adds (shot durations sum to at most 15 s;
``@image_N`` names an existing image).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any, Final
from urllib.parse import urljoin

from mock_server import __version__
from mock_server.schema_registry import BASE_URI, default_registry
from mock_server.webhooks.policy import ENDPOINT_PATTERN

#: What the fake enforces beyond the schemas (said in the document, since JSON Schema cannot).
STRICTER: Final = [
    "Integers are strict, as in Go's decoder: 5.0 is refused where an integer is required "
    "(JSON Schema counts 5.0 as an integer).",
    "multi_shots: the shots' durations sum to at most 15 seconds.",
    "@image_N in a prompt must name an existing entry of images (1-based).",
    "config.webhook_config: the endpoint needs a usable host and port (1-65535) and the "
    "secret printable ASCII (it becomes a header); a guess, refused with 400 at create.",
    "Headers x-api-key, X-Mock-Fault and X-Mock-Scenario may be sent once (400 otherwise).",
    "Pack links (such as origin_task_id) must name an existing task of the same key.",
    "Bodies are strict UTF-8 JSON without a byte order mark, NaN or Infinity, at most 1 MiB.",
]
#: Where it is looser than the schema files (so the document leaves the keyword out).
LOOSER: Final = [
    "URLs (images, video, webhook endpoint) are checked by the pattern ^https?://\\S+$ only, "
    "not by the 'uri' format, which this document therefore omits.",
]
ERROR_TEXT: Final = {
    400: "invalid request: the message names the field (JSON pointer) and the rule",
    401: "missing, empty or unknown x-api-key",
    402: "the task does not fit the account's credits (--credits-usd; a guess)",
    404: "unknown task, another key's task or one past --retention",
    408: "the request body did not arrive within --body-timeout",
    413: "the body is over the size limit (1 MiB)",
    429: "rate limited: only when injected (X-Mock-Fault, fault rules, --fault-rate)",
    500: "internal error: only when injected, or a bug in the fake",
    502: "bad gateway: only when injected",
    503: "unavailable: only when injected",
}
INJECTED: Final = (429, 500, 502, 503)


def component_name(file_name: str) -> str:
    """``task-response.json`` -> ``task-response``; ``packs/p/input.json`` -> ``packs.p.input``."""
    return file_name.removesuffix(".json").replace("/", ".")


def request_schema_names() -> list[str]:
    """Components that describe a create request body, one per accepted request shape.

    Every pack's request schema (the registry's ``request_schemas``); the document lists
    them all (``oneOf``).
    """
    return [component_name(n) for n in sorted(default_registry().request_schemas())]


#: Python's ``\s`` (what the fake's validator runs) as an explicit class: ECMA-262's ``\s``
#: (what OpenAPI tools assume) lacks U+001C-U+001F and U+0085 and has U+FEFF.
_PY_SPACE: Final = (
    "\\t\\n\\u000b\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)


def _pattern(text: str) -> str:
    r"""A schema pattern with Python's ``\s`` spelled out, so every tool reads it the same."""
    return text.replace("[^\\s]", f"[^{_PY_SPACE}]").replace("\\s", f"[{_PY_SPACE}]")


def _rewrite(node: Any, current: str) -> Any:
    """A schema file as a component: no ``$id``/``$schema``, refs to components, and no
    ``format: uri`` (the fake checks URLs by their pattern only, so the document says no more)."""
    if isinstance(node, dict):
        out = {
            k: _rewrite(v, current)
            for k, v in node.items()
            if k not in {"$id", "$schema"} and not (k == "format" and v == "uri")
        }
        if isinstance(out.get("pattern"), str):
            out["pattern"] = _pattern(out["pattern"])
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


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int, not_found_text: bool = False) -> dict[str, Any]:
    answers = {str(code): _json(_ref("error-envelope"), ERROR_TEXT[code]) for code in codes}
    answers |= {str(code): _json(_ref("error-envelope"), ERROR_TEXT[code]) for code in INJECTED}
    if not_found_text:
        answers["404"] = {
            "description": ERROR_TEXT[404] + "; a path the router does not know (an empty or "
            "slashed id) is the real service's plain-text '404 page not found'",
            "content": {
                "application/json": {"schema": _ref("error-envelope")},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    return answers


ACCOUNT: Final = {
    "type": "object",
    "required": ["code", "data", "message"],
    "properties": {
        "code": {"const": 200},
        "message": {"type": "string"},
        "data": {
            "type": "object",
            "required": ["equivalent_in_usd", "wallet", "max_concurrent_task_count"],
            "properties": {
                "account_name": {"type": "string"},
                "plan": {"type": "string"},
                "equivalent_in_usd": {"type": "number"},
                "unlimited": {"type": "boolean"},
                "max_concurrent_task_count": {"type": "integer", "minimum": 0},
                "wallet": {
                    "type": "object",
                    "required": ["point_remain", "point_frozen", "point_used"],
                    "properties": {
                        "point_remain": {"type": "integer"},
                        "point_frozen": {"type": "integer"},
                        "point_used": {"type": "integer"},
                    },
                },
            },
        },
    },
}
TASK_ID: Final = [{"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}]
ENVELOPE: Final = {
    "type": "object",
    "required": ["code", "data", "message"],
    "properties": {"code": {"const": 200}, "message": {"type": "string"}},
}
STORAGE: Final = [
    {"name": "folder", "in": "path", "required": True, "schema": {"type": "string"}},
    {"name": "file", "in": "path", "required": True, "schema": {"type": "string"}},
]


def _query(name: str, low: int, high: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": low}
    if high is not None:
        schema["maximum"] = high
    else:
        schema["maximum"] = 999_999_999_999  # at most 12 ASCII digits
    return {"name": name, "in": "query", "required": False, "schema": schema}


HISTORY_QUERY: Final = [
    _query("page", 1),
    _query("page_size", 1, 100),
    {"name": "model", "in": "query", "required": False, "schema": {"type": "string"}},
    _query("start_time", 0),
    _query("end_time", 0),
]
MOCK_HEADERS: Final = (
    "Test-control headers (not PiAPI): X-Mock-Scenario on create chooses the task's outcome, "
    "X-Mock-Fault on any faked call injects 429/5xx, latency, a dropped or truncated answer "
    "(GET /_mock/scenarios lists the grammars; off with --no-control)."
)


def _create() -> dict[str, Any]:
    shapes = [_ref(name) for name in request_schema_names()]
    body = shapes[0] if len(shapes) == 1 else {"oneOf": shapes}
    return {
        "operationId": "createTask",
        "summary": "Create a task; it starts pending with its cost frozen",
        "description": MOCK_HEADERS,
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {
            "200": _json(_ref("task-response"), "the pending task"),
            **_errors(400, 401, 402, 408, 413),
        },
    }


def _cancel(operation_id: str, summary: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "responses": {
            "200": _json(_ref("cancel-response"), "cancelled"),
            **_errors(400, 401, not_found_text=True),
        },
    }


def _paths() -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    video = {
        "200": {
            "description": "a small real media file of the task's kind (video, image, audio)",
            "content": dict.fromkeys(("video/mp4", "image/*", "audio/*"), binary),
        },
        "404": {
            "description": "no such task, or not completed yet",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
    }
    return {
        "/api/v1/task": {"post": _create()},
        "/api/v1/task/{task_id}": {
            "parameters": TASK_ID,
            "get": {
                "operationId": "getTask",
                "summary": "The task as it is now on the fake's clock",
                "responses": {
                    "200": _json(_ref("task-response"), "the task now"),
                    **_errors(400, 401, not_found_text=True),
                },
            },
            "delete": _cancel("cancelTask", "Cancel a pending task (the documented spelling)"),
        },
        "/api/v1/task/{task_id}/cancel": {
            "parameters": TASK_ID,
            "post": _cancel("cancelTaskPost", "Cancel a pending task (piapi-cli's spelling)"),
        },
        "/account/info": {
            "get": {
                "operationId": "accountInfo",
                "summary": "A simulated account: balance, frozen and used points",
                "responses": {"200": _json(ACCOUNT, "the account"), **_errors(400, 401)},
            }
        },
        "/account/active_tasks": {
            "get": {
                "operationId": "activeTasks",
                "summary": "Unfinished tasks per provider (simulated)",
                "responses": {"200": _json(ENVELOPE, "the active tasks"), **_errors(400, 401)},
            }
        },
        "/api/open/tasks/histories": {
            "get": {
                "operationId": "taskHistories",
                "summary": "The key's task history, paged (simulated)",
                "parameters": HISTORY_QUERY,
                "responses": {"200": _json(ENVELOPE, "a page of tasks"), **_errors(400, 401)},
            }
        },
        "/storage/{folder}/{file}": {
            "parameters": STORAGE,
            "get": {
                "operationId": "getMedia",
                "summary": "A finished task's media file (no key needed, like PiAPI's storage)",
                "security": [],
                "responses": video,
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }


def _with_deliverable_webhooks(schemas: dict[str, Any]) -> None:
    """The fake refuses at create what it could never deliver (``config_violations``, a
    guess): say so in the schema, as far as a pattern can (ports 1-65535 it cannot)."""
    config = schemas.get("task-config")
    if config is None:
        return
    hook = config["properties"]["webhook_config"]["properties"]
    hook["endpoint"] = {
        "description": hook["endpoint"].get("description", "")
        + " piapi-mock: printable ASCII, a host and a port 1-65535 (a guess).",
        "anyOf": [{"const": ""}, {"type": "string", "pattern": ENDPOINT_PATTERN}],
    }
    hook["secret"] = {**hook["secret"], "pattern": "^[ -~]*$"}


@cache
def _document() -> dict[str, Any]:
    registry = default_registry()
    schemas = {component_name(n): _rewrite(registry.schema(n), n) for n in registry.names}
    _with_deliverable_webhooks(schemas)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "PiAPI task API (Kling omni) as faked by piapi-mock",
            "version": __version__,
            "description": "An offline fake of https://api.piapi.ai; see x-piapi-mock-stricter "
            "for what it enforces beyond these schemas.",
        },
        "x-piapi-mock-stricter": STRICTER,
        "x-piapi-mock-looser": LOOSER,
        "servers": [{"url": "http://127.0.0.1:8000"}],
        "security": [{"apiKey": []}],
        "paths": _paths(),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "x-api-key",
                    "description": "Any non-empty key unless the fake runs with --api-key; a "
                    "task is visible only to the key that created it.",
                }
            },
        },
    }


def openapi_document(server_url: str | None = None) -> dict[str, Any]:
    """A fresh copy of the document; ``servers`` names ``server_url`` (the running fake)."""
    document = copy.deepcopy(_document())
    if server_url:
        document["servers"] = [{"url": server_url.rstrip("/")}]
    return document
