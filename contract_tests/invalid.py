"""Invalid create requests, each breaking exactly one rule, labelled with it.

A drawn :class:`Invalid` carries the body and the (pointer, rule) it breaks, the same pair
:mod:`mock_server.schema_registry` reports, so a failing check says which rule a server let
through. Each mutation starts from a valid body of a fitting shape and changes one thing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from hypothesis import strategies as st

from contract_tests.strategies import Body, valid_requests


@dataclass(frozen=True, slots=True)
class Invalid:
    """A create body that breaks one rule: ``pointer`` + ``rule`` name it; ``name`` says how."""

    name: str
    pointer: str
    rule: str
    body: Body

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
    Mutation("model not kling", None, "/model", "const", _set("/model", "midjourney")),
    Mutation("task_type not omni", None, "/task_type", "const", _set("/task_type", "txt2video")),
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
        return Invalid(mutation.name, mutation.pointer, mutation.rule, body)

    return valid_requests(mutation.shape).map(apply)
