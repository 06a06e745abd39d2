"""The contract's numbers and enums, read once from the schema files through the registry.

Strategies are built from these, so a change to a schema changes what the kit draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from mock_server.contract_rules import MAX_TOTAL_SECONDS
from mock_server.packs import default_book
from mock_server.schema_registry import default_registry

OMNI = default_book().named("kling-omni_video_generation")


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the strategies need to know about the create and task schemas."""

    versions: tuple[str, ...]
    resolutions: tuple[str, ...]
    aspect_ratios: tuple[str, ...]
    prompt_max: int
    images_max: int
    duration_min: int
    duration_max: int
    shots_max: int
    shot_prompt_max: int
    shot_duration_min: int
    shot_duration_max: int
    total_seconds_max: int
    o1_durations: tuple[int, ...]
    service_modes: tuple[str, ...]
    statuses: tuple[str, ...]
    usage_types: tuple[str, ...]
    model: str
    task_type: str


@cache
def facts() -> Facts:
    """The facts of the shipped schemas."""
    registry = default_registry()
    omni = registry.schema("input")
    props, defs = omni["properties"], omni["$defs"]
    shot, v3 = defs["shot"]["properties"], defs["v3"]["properties"]
    task_defs = registry.schema("task")["$defs"]
    return Facts(
        # The kit draws omni 3.0 and o1 bodies (4.0 has rules of its own, drawn from its pack).
        versions=tuple(v for v in _enum(props["version"]) if v in {"3.0", "o1"}),
        resolutions=_enum(props["resolution"]),
        aspect_ratios=_enum(props["aspect_ratio"]),
        prompt_max=int(props["prompt"]["allOf"][0]["maxLength"]),
        images_max=int(defs["images_7"]["properties"]["images"]["maxItems"]),
        duration_min=int(v3["duration"]["minimum"]),
        duration_max=int(v3["duration"]["maximum"]),
        shots_max=int(v3["multi_shots"]["maxItems"]),
        shot_prompt_max=int(shot["prompt"]["allOf"][0]["maxLength"]),
        shot_duration_min=int(shot["duration"]["minimum"]),
        shot_duration_max=int(shot["duration"]["maximum"]),
        total_seconds_max=MAX_TOTAL_SECONDS,
        o1_durations=tuple(int(d) for d in defs["o1"]["properties"]["duration"]["enum"]),
        service_modes=_enum(registry.schema("config")["properties"]["service_mode"]["allOf"][0]),
        statuses=_enum(task_defs["status"]),
        # The omni pack's usage type (the shared schema allows "point" and "llm").
        usage_types=tuple(
            t for t in _enum(task_defs["usage"]["properties"]["type"]) if t == OMNI.usage_type
        ),
        model="kling",
        task_type="omni_video_generation",
    )


def _enum(schema: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(v) for v in schema["enum"])
