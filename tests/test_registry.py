"""The registry's error form, strict integers, and the fast path agreeing with jsonschema."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mock_server.contract_rules import request_violations, semantic_violations
from mock_server.provenance import documented
from mock_server.schema_registry import Violation, default_registry, pointer
from tests.conftest import EXAMPLES, seed_request

OMNI_DOCUMENTED = documented("https://piapi.ai/docs/kling-api/kling-3-omni-api")


def test_pointer_escapes_per_rfc_6901() -> None:
    assert pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"
    assert pointer([]) == ""


def test_missing_field_points_at_the_field_itself() -> None:
    body = seed_request()
    del body["input"]["prompt"]
    (violation,) = request_violations(body)
    assert (violation.pointer, violation.rule) == ("/input/prompt", "required")
    assert violation.message == "'prompt' is required"
    assert violation.provenance is not None
    assert violation.provenance.grade == "guess"
    assert "(guess: the omni schema lists no required field" in str(violation)


def test_prompt_is_optional_with_multi_shots() -> None:
    body = seed_request()
    del body["input"]["prompt"]
    body["input"]["multi_shots"] = [{"prompt": "a dog", "duration": 3}]
    assert request_violations(body) == []


def test_an_integral_float_is_not_an_integer() -> None:
    """Go's decoder refuses 5.0 for an int field; so does the contract."""
    body = seed_request()
    body["input"]["duration"] = 5.0
    assert [(v.pointer, v.rule) for v in request_violations(body)] == [("/input/duration", "type")]


def test_messages_name_the_bound_not_the_whole_instance() -> None:
    body = seed_request()
    body["input"]["multi_shots"] = [{"prompt": "x" * 400, "duration": 1}] * 7
    (violation,) = request_violations(body)
    assert violation == Violation(
        "/input/multi_shots", "maxItems", "has 7 items, at most 6 allowed", OMNI_DOCUMENTED
    )


def test_shot_sum_rule_and_image_references() -> None:
    task_input: dict[str, Any] = {
        "version": "3.0",
        "images": ["https://example.test/a.png"],
        "multi_shots": [
            {"prompt": "@image_1 runs", "duration": 8},
            {"prompt": "@image_3 waves", "duration": 8},
        ],
    }
    found = list(semantic_violations(task_input))
    assert [(v.pointer, v.rule) for v in found] == [
        ("/input/multi_shots", "sum of durations"),
        ("/input/multi_shots/1/prompt", "image reference"),
    ]


def test_the_top_prompt_is_not_checked_when_shots_replace_it() -> None:
    task_input = {"version": "3.0", "prompt": "@image_9", "multi_shots": [{"prompt": "a"}]}
    assert list(semantic_violations(task_input)) == []


def test_shots_without_duration_count_three_seconds() -> None:
    shots = [{"prompt": "a"}] * 6
    assert list(semantic_violations({"version": "3.0", "multi_shots": shots})) != []
    assert list(semantic_violations({"version": "3.0", "multi_shots": shots[:5]})) == []


ALL_EXAMPLES = sorted(EXAMPLES.rglob("*.json"))


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("kind", ["request", "response", "task", "webhook", "error", "cancel"])
def test_fast_path_never_accepts_what_jsonschema_rejects(path: Any, kind: str) -> None:
    registry = default_registry()
    payload = json.loads(path.read_text())
    assert (registry.errors(kind, payload) == []) == (registry.slow_errors(kind, payload) == [])


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda p: p.name)
def test_no_schema_s_fast_path_accepts_what_jsonschema_rejects(path: Any) -> None:
    """Every schema, the packs' included, on every example."""
    registry = default_registry()
    payload = json.loads(path.read_text())
    for name in registry.names:
        if registry.fast_accepts(name, payload):
            assert registry.schema_errors(name, payload, fast=False) == [], name
