"""The strategies keep their promises: valid is valid, invalid breaks its labelled rule."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.drawn_tasks import envelopes, error_envelopes, tasks, webhook_bodies
from contract_tests.facts import facts
from contract_tests.invalid import MUTATIONS, Invalid, invalid_requests, mutations
from contract_tests.prices import load_prices, seconds
from contract_tests.profiles import TESTS
from contract_tests.strategies import valid_requests
from mock_server.contract_rules import request_violations
from mock_server.domain.pricing import Prices
from mock_server.packs import default_book
from mock_server.schema_registry import default_registry

REGISTRY = default_registry()


@settings(TESTS, max_examples=150)
@given(valid_requests())
def test_every_drawn_valid_request_validates(body: dict[str, Any]) -> None:
    assert request_violations(body) == []
    task_input = body["input"]
    if task_input.get("multi_shots"):
        assert seconds(task_input) <= facts().total_seconds_max


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_every_invalid_request_breaks_its_labelled_rule(mutation: Any) -> None:
    @settings(TESTS, max_examples=8)
    @given(invalid_requests((mutation.name,)))
    def check(case: Invalid) -> None:
        found = {(v.pointer, v.rule) for v in request_violations(case.body)}
        assert (case.pointer, case.rule) in found, (case, found)

    check()


def test_a_mislabelled_mutation_would_be_caught() -> None:
    """The property above bites: relabel one mutation and it fails."""
    wrong = Invalid("duration too long", "/input/duration", "minimum", {})

    @settings(TESTS, max_examples=3)
    @given(invalid_requests(("duration too long",)))
    def check(case: Invalid) -> None:
        found = {(v.pointer, v.rule) for v in request_violations(case.body)}
        assert (wrong.pointer, wrong.rule) in found

    with pytest.raises(AssertionError):
        check()


def test_unknown_mutation_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown mutations"):
        mutations(("no such rule",))


@pytest.mark.parametrize("status", [*facts().statuses, None])
def test_every_drawn_task_validates(status: str | None) -> None:
    @settings(TESTS, max_examples=25)
    @given(tasks(status), envelopes(status), webhook_bodies(status))
    def check(task: dict[str, Any], envelope: dict[str, Any], hook: dict[str, Any]) -> None:
        assert REGISTRY.slow_errors("task", task) == []
        assert REGISTRY.slow_errors("response", envelope) == []
        assert REGISTRY.slow_errors("webhook", hook) == []
        if status:
            assert task["status"] == status

    check()


@settings(TESTS, max_examples=30)
@given(error_envelopes())
def test_drawn_error_envelopes_validate(envelope: dict[str, Any]) -> None:
    assert REGISTRY.slow_errors("error", envelope) == []


def _broken_task(task: dict[str, Any], where: str) -> dict[str, Any]:
    task = copy.deepcopy(task)
    if where == "status":
        task["status"] = task["status"].upper()
    elif where == "video":
        task["output"]["video"] = 5
    elif where == "frozen":
        task["meta"]["usage"]["frozen"] = 1.5
    else:
        del task["meta"][where]
    return task


DIFFERENTIAL = st.one_of(
    st.tuples(st.just("request"), valid_requests()),
    st.tuples(st.just("request"), invalid_requests().map(lambda case: case.body)),
    st.tuples(st.just("task"), tasks()),
    st.tuples(
        st.just("task"),
        st.builds(
            _broken_task, tasks(), st.sampled_from(["status", "video", "frozen", "created_at"])
        ),
    ),
    st.tuples(st.just("response"), envelopes()),
    st.tuples(st.just("webhook"), webhook_bodies()),
)


@settings(TESTS, max_examples=200)
@given(DIFFERENTIAL)
def test_the_fast_path_never_accepts_what_jsonschema_rejects(case: tuple[str, Any]) -> None:
    kind, document = case
    if REGISTRY.fast_accepts(kind, document):
        assert REGISTRY.slow_errors(kind, document) == []


@settings(TESTS, max_examples=60)
@given(valid_requests())
def test_the_kit_price_oracle_agrees_with_the_fake(body: dict[str, Any]) -> None:
    omni = default_book().named("kling-omni_video_generation")
    for table in ("seed", "2026-02-13"):
        fake = Prices(default_book(), table).points(omni, body["input"])
        assert load_prices(table).points(body["input"]) == fake


def test_facts_come_from_the_schema_files() -> None:
    omni = REGISTRY.schema("input")
    assert facts().aspect_ratios == tuple(omni["properties"]["aspect_ratio"]["enum"])
    assert facts().prompt_max == omni["properties"]["prompt"]["allOf"][0]["maxLength"]
    assert facts().shots_max == omni["$defs"]["v3"]["properties"]["multi_shots"]["maxItems"]


def test_the_differential_property_can_fail() -> None:
    """Stock fastjsonschema takes ``5.0`` as an integer: the property would catch it. The
    registry's fast validator is compiled with strict integers and agrees with jsonschema."""
    import fastjsonschema

    body = {
        "model": "kling",
        "task_type": "omni_video_generation",
        "input": {"version": "3.0", "prompt": "p", "duration": 5.0},
    }
    omni = REGISTRY.request_schema("kling", "omni_video_generation")
    assert omni is not None
    stock = fastjsonschema.compile(
        REGISTRY.schema(omni),
        handlers={"https": REGISTRY._resolve_remote},
        formats={"uri": lambda _: True},
    )
    stock(body)  # accepted: it would disagree with jsonschema
    assert REGISTRY.slow_errors("request", body) != []
    assert not REGISTRY.fast_accepts(omni, body)
