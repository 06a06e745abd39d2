"""Invalid create requests, each breaking exactly one rule, labelled with it.

A drawn :class:`Invalid` carries the body and the (pointer, rule) it breaks, the same pair
:mod:`mock_server.schema_registry` reports, so a failing check says which rule a server let
through. Each mutation starts from a valid body of a fitting shape and changes one thing.

Each mutation also has a :class:`~contract_tests.verdicts.Grade`: the ``x-provenance`` of the
rule it breaks (read from the registry's violation of a fixed example), else the kit's own
statement below. A guessed rule the server does not share is drift, not a violation, and a
mutation of a guessed rule may be accepted (and billed) by a server that keeps PiAPI's
documented contract, so without a budget the suite does not send it to a real server.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from hypothesis import strategies as st

from contract_tests.strategies import Body, valid_requests
from contract_tests.verdicts import SCHEMA, Grade, grade_of, guess
from mock_server.contract_rules import request_violations

#: The schema file the omni rules live in (what a drift report tells you to change).
INPUT_SCHEMA: Final = "schemas/packs/kling-omni_video_generation/input.json"


@dataclass(frozen=True, slots=True)
class Invalid:
    """A create body that breaks one rule: ``pointer`` + ``rule`` name it; ``name`` says how."""

    name: str
    pointer: str
    rule: str
    body: Body
    grade: Grade = SCHEMA
    schema: str = INPUT_SCHEMA

    def __repr__(self) -> str:
        return f"Invalid({self.name!r}: {self.pointer} [{self.rule}], body={self.body!r})"


@dataclass(frozen=True, slots=True)
class Mutation:
    """One way of breaking one rule of a body of ``shape``."""

    name: str
    shape: str | None
    pointer: str
    rule: str
    apply: Callable[[Body], None]


def _set(path: str, value: Any) -> Callable[[Body], None]:
    keys = path.strip("/").split("/")

    def apply(body: Body) -> None:
        target: Any = body
        for key in keys[:-1]:
            target = target.setdefault(key, {}) if isinstance(target, dict) else target[int(key)]
        if isinstance(target, list):
            target[int(keys[-1])] = value
        else:
            target[keys[-1]] = value

    return apply


def _drop(path: str) -> Callable[[Body], None]:
    keys = path.strip("/").split("/")

    def apply(body: Body) -> None:
        target: Any = body
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target.pop(keys[-1], None)

    return apply


def _shots_over_total(body: Body) -> None:
    shots = body["input"]["multi_shots"]
    if len(shots) < 2:
        shots.append({"prompt": "one more shot"})
    shots[0]["duration"], shots[1]["duration"] = 14, 2


def _missing_image(body: Body) -> None:
    task_input = body["input"]
    count = len(task_input.get("images") or [])
    task_input["prompt"] = task_input["prompt"][:2480] + f" @image_{count + 1}"


def _bad_first_image(body: Body) -> None:
    task_input = body["input"]
    task_input["images"] = ["not a url", *(task_input.get("images") or [])[1:]]


def _too_many_shots(body: Body) -> None:
    body["input"]["multi_shots"] = [{"prompt": f"shot {i}", "duration": 1} for i in range(7)]


P: Final = "/input/"
S0: Final = "/input/multi_shots/0/"
MUTATIONS: Final[tuple[Mutation, ...]] = (
    Mutation("model missing", None, "/model", "required", _drop("/model")),
    Mutation("model not kling", None, "/task_type", "supported", _set("/model", "midjourney")),
    Mutation(
        "task_type not omni", None, "/task_type", "supported", _set("/task_type", "txt2video")
    ),
    Mutation("input not an object", None, "/input", "type", _set("/input", "a cat")),
    Mutation("config not an object", None, "/config", "type", _set("/config", "public")),
    Mutation("version missing", "single", P + "version", "required", _drop(P + "version")),
    Mutation("version unknown", None, P + "version", "enum", _set(P + "version", "2.0")),
    Mutation("resolution unknown", None, P + "resolution", "enum", _set(P + "resolution", "4k")),
    Mutation("aspect unknown", None, P + "aspect_ratio", "enum", _set(P + "aspect_ratio", "4:3")),
    Mutation("duration string", "single", P + "duration", "type", _set(P + "duration", "5")),
    Mutation("duration float", "single", P + "duration", "type", _set(P + "duration", 5.5)),
    Mutation("duration too short", "single", P + "duration", "minimum", _set(P + "duration", 2)),
    Mutation("duration too long", "single", P + "duration", "maximum", _set(P + "duration", 16)),
    Mutation("audio string", "single", P + "enable_audio", "type", _set(P + "enable_audio", "1")),
    Mutation(
        "prompt too long", "single", P + "prompt", "maxLength", _set(P + "prompt", "x" * 2501)
    ),
    Mutation("prompt not string", "single", P + "prompt", "type", _set(P + "prompt", 42)),
    Mutation("prompt missing", "single", P + "prompt", "required", _drop(P + "prompt")),
    Mutation("seven shots", "multi", P + "multi_shots", "maxItems", _too_many_shots),
    Mutation("shot without prompt", "multi", S0 + "prompt", "required", _drop(S0 + "prompt")),
    Mutation("shot prompt empty", "multi", S0 + "prompt", "minLength", _set(S0 + "prompt", "")),
    Mutation("shot too long", "multi", S0 + "duration", "maximum", _set(S0 + "duration", 15)),
    Mutation("shot of 0 s", "multi", S0 + "duration", "minimum", _set(S0 + "duration", 0)),
    Mutation("shot duration string", "multi", S0 + "duration", "type", _set(S0 + "duration", "3")),
    Mutation("shots over 15 s", "multi", P + "multi_shots", "sum of durations", _shots_over_total),
    Mutation(
        "eight images", None, P + "images", "maxItems", _set(P + "images", ["http://a.test/i"] * 8)
    ),
    Mutation(
        "images not a list", None, P + "images", "type", _set(P + "images", "http://a.test/i")
    ),
    Mutation("image not a URL", None, P + "images/0", "pattern", _bad_first_image),
    Mutation("image reference missing", "single", P + "prompt", "image reference", _missing_image),
    Mutation("o1 duration 3", "o1", P + "duration", "enum", _set(P + "duration", 3)),
    Mutation("o1 with audio", "o1", P + "enable_audio", "const", _set(P + "enable_audio", True)),
    Mutation("o1 multi-shot", "o1", P + "multi_shots", "not allowed", _set(P + "multi_shots", [])),
    Mutation("o1 prompt missing", "o1", P + "prompt", "required", _drop(P + "prompt")),
    Mutation(
        "service mode unknown",
        None,
        "/config/service_mode",
        "enum",
        _set("/config/service_mode", "shared"),
    ),
    Mutation(
        "webhook endpoint not a URL",
        None,
        "/config/webhook_config/endpoint",
        "pattern",
        _set("/config/webhook_config/endpoint", "webhook.site/abc"),
    ),
    Mutation(
        "webhook secret not a string",
        None,
        "/config/webhook_config/secret",
        "type",
        _set("/config/webhook_config/secret", 123),
    ),
)


#: Where the kit itself knows a mutated rule is a guess (used when the schema says nothing).
GUESSES: Final[dict[str, str]] = {
    "prompt too long": "upstream Kling's 2,500-character limit; PiAPI publishes none",
    "shot prompt empty": "upstream Kling's shot prompt rule; PiAPI publishes none",
    "eight images": "upstream Kling's 7 images; PiAPI states no count",
    "image not a URL": "PiAPI says 'valid image URLs' but does not say what it checks",
    "image reference missing": "we assume a missing @image_N is refused up front",
    "prompt missing": "PiAPI's omni schema has no required list; we require a prompt",
    "o1 duration 3": "the o1 docs page could not be read; 5 and 10 s are the priced clips",
    "o1 with audio": "the o1 docs page could not be read; upstream O1 has no audio",
    "o1 multi-shot": "the o1 docs page could not be read; upstream O1 has no multi-shot",
    "o1 prompt missing": "the o1 docs page could not be read; its curl example has a prompt",
    "service mode unknown": "PiAPI names public and private but does not say others fail",
    "webhook endpoint not a URL": "PiAPI does not say it validates the endpoint",
}
#: Valid bodies of each shape to which a mutation is applied to read its rule's grade.
_EXAMPLES: Final[dict[str | None, Body]] = {
    None: {
        "model": "kling",
        "task_type": "omni_video_generation",
        "input": {"version": "3.0", "prompt": "a cat", "images": ["https://example.test/a.png"]},
        "config": {
            "service_mode": "public",
            "webhook_config": {"endpoint": "https://example.test/hook", "secret": "s"},
        },
    },
    "multi": {
        "model": "kling",
        "task_type": "omni_video_generation",
        "input": {
            "version": "3.0",
            "images": ["https://example.test/a.png"],
            "multi_shots": [{"prompt": "one", "duration": 3}, {"prompt": "two", "duration": 3}],
        },
    },
    "o1": {
        "model": "kling",
        "task_type": "omni_video_generation",
        "input": {"version": "o1", "prompt": "a cat", "duration": 5},
    },
}


def example(mutation: Mutation) -> Body:
    """A fixed body of the mutation's shape, broken by it."""
    body = copy.deepcopy(_EXAMPLES.get(mutation.shape, _EXAMPLES[None]))
    mutation.apply(body)
    return body


@cache
def grade(mutation: Mutation) -> Grade:
    """Where the broken rule comes from: the schema's ``x-provenance``, else :data:`GUESSES`."""
    found = request_violations(example(mutation))
    same = [v for v in found if (v.pointer, v.rule) == (mutation.pointer, mutation.rule)]
    for violation in same or found[:1]:
        known = grade_of(violation)
        if known is not None:
            return known
    reason = GUESSES.get(mutation.name)
    return guess(reason) if reason else SCHEMA


def schema_of(pointer: str) -> str:
    """The schema file that states the rule at ``pointer`` of a create body."""
    if pointer.startswith("/input/"):
        return INPUT_SCHEMA
    if pointer.startswith("/config/"):
        return "schemas/task-config.json"
    return "schemas/create-task-request.json"


def mutations(names: tuple[str, ...] = ()) -> tuple[Mutation, ...]:
    """The known mutations (only those named, if ``names`` is given)."""
    if not names:
        return MUTATIONS
    found = tuple(m for m in MUTATIONS if m.name in names)
    unknown = set(names) - {m.name for m in found}
    if unknown:
        raise ValueError(f"unknown mutations: {', '.join(sorted(unknown))}")
    return found


@cache
def invalid_requests(names: tuple[str, ...] = ()) -> st.SearchStrategy[Invalid]:
    """Create bodies that break exactly one rule each, labelled with (pointer, rule)."""
    return st.sampled_from(mutations(names)).flatmap(_mutated)


def _mutated(mutation: Mutation) -> st.SearchStrategy[Invalid]:
    def apply(base: Body) -> Invalid:
        body = copy.deepcopy(base)
        mutation.apply(body)
        rule = grade(mutation)
        return Invalid(
            mutation.name, mutation.pointer, mutation.rule, body, rule, schema_of(mutation.pointer)
        )

    return valid_requests(mutation.shape).map(apply)
