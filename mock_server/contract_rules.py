"""Rules of the create-task contract that JSON Schema cannot say.

Pure functions over an already schema-valid request body; each broken rule is reported as a
:class:`~mock_server.schema_registry.Violation`, the same form as schema errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from mock_server.schema_registry import SchemaRegistry, Violation, default_registry

MAX_TOTAL_SECONDS: Final = 15
_IMAGE_REF: Final = re.compile(r"@image_(\d+)")


def request_violations(body: object, registry: SchemaRegistry | None = None) -> list[Violation]:
    """Schema violations of a create-task body, then (if none) the semantic ones."""
    found = (registry or default_registry()).errors("request", body)
    if found or not isinstance(body, dict):
        return found
    return list(semantic_violations(body["input"]))


def semantic_violations(task_input: Mapping[str, Any]) -> Iterator[Violation]:
    """Rules beyond the schema: total shot length, and ``@image_N`` references."""
    shots = task_input.get("multi_shots") or []
    total = sum(int(shot.get("duration", 3)) for shot in shots)
    if total > MAX_TOTAL_SECONDS:
        yield Violation(
            "/input/multi_shots",
            "sum of durations",
            f"shots last {total} s in all, at most {MAX_TOTAL_SECONDS} s allowed",
        )
    yield from _image_references(task_input, shots)


def _image_references(task_input: Mapping[str, Any], shots: list[Any]) -> Iterator[Violation]:
    """``@image_N`` must name an existing entry of ``images`` (1-based).

    Guess: PiAPI documents that images are referenced as ``@image_1``...; we assume a
    reference to a missing image is refused up front (the upstream model cannot resolve it).
    """
    count = len(task_input.get("images") or [])
    top = [] if shots else [("/input/prompt", task_input.get("prompt"))]
    prompts: list[tuple[str, object]] = top
    prompts += [(f"/input/multi_shots/{i}/prompt", s.get("prompt")) for i, s in enumerate(shots)]
    for where, text in prompts:
        if not isinstance(text, str):
            continue
        for match in _IMAGE_REF.finditer(text):
            index = int(match.group(1))
            if not 1 <= index <= count:
                yield Violation(
                    where,
                    "image reference",
                    f"@image_{index} refers to image {index}, but input.images has {count}",
                )
