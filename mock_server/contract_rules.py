"""Rules of the create-task contract that JSON Schema cannot say, and the request check.

Pure functions over an already schema-valid request body; each broken rule is reported as a
:class:`~mock_server.schema_registry.Violation`, the same form as schema errors. A pack names
the rules it uses (``pack.json`` ``rules``); each rule carries its provenance.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from mock_server.provenance import Provenance, documented, guess
from mock_server.schema_registry import SchemaRegistry, Violation

if TYPE_CHECKING:
    from mock_server.packs import PackBook

MAX_TOTAL_SECONDS: Final = 15
_IMAGE_REF: Final = re.compile(r"@image_(\d+)")
OMNI_DOCS: Final = "https://piapi.ai/docs/kling-api/kling-3-omni-api"
#: What ``strictness`` may be: every rule, or only PiAPI's (documented and observed) rules.
STRICTNESS: Final = ("all", "documented")


@dataclass(frozen=True, slots=True)
class Rule:
    """A named rule beyond the schema: a check over the input, and where it comes from."""

    check: Callable[[Mapping[str, Any], Provenance], Iterator[Violation]]
    provenance: Provenance


def request_violations(
    body: object,
    registry: SchemaRegistry | None = None,
    *,
    book: PackBook | None = None,
    strictness: str = "all",
) -> list[Violation]:
    """Schema violations of a create-task body, then (if none) its pack's semantic ones.

    With ``strictness="documented"`` guessed rules are not enforced (their violations are
    dropped), like a lenient real server that keeps only PiAPI's documented rules.
    """
    if book is None:
        from mock_server.packs import default_book

        book = default_book()
    found = _enforced((registry or book.registry).errors("request", body), strictness)
    if found or not isinstance(body, dict):
        return found
    pack = book.get(body.get("model"), body.get("task_type"))
    if pack is None:
        return found
    rules = (RULES[name] for name in pack.rules)
    task_input = body["input"]
    return _enforced([v for r in rules for v in r.check(task_input, r.provenance)], strictness)


def semantic_violations(task_input: Mapping[str, Any]) -> Iterator[Violation]:
    """The omni rules beyond the schema: total shot length, and ``@image_N`` references."""
    for rule in (RULES["shots_total_at_most_15s"], RULES["image_references_exist"]):
        yield from rule.check(task_input, rule.provenance)


def _enforced(found: list[Violation], strictness: str) -> list[Violation]:
    if strictness == "documented":
        return [v for v in found if not v.is_guess]
    return found


def _shots_total(task_input: Mapping[str, Any], source: Provenance) -> Iterator[Violation]:
    shots = task_input.get("multi_shots") or []
    total = sum(int(shot.get("duration", 3)) for shot in shots)
    if total > MAX_TOTAL_SECONDS:
        yield Violation(
            "/input/multi_shots",
            "sum of durations",
            f"shots last {total} s in all, at most {MAX_TOTAL_SECONDS} s allowed",
            source,
        )


def _image_references(task_input: Mapping[str, Any], source: Provenance) -> Iterator[Violation]:
    """``@image_N`` must name an existing entry of ``images`` (1-based)."""
    shots = task_input.get("multi_shots") or []
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
                    source,
                )


#: Every rule a pack may name, by name.
RULES: Final[Mapping[str, Rule]] = {
    "shots_total_at_most_15s": Rule(
        _shots_total, documented(OMNI_DOCS, "multi_shots: at most 6 shots, 15 s in all")
    ),
    "image_references_exist": Rule(
        _image_references,
        guess(
            "PiAPI documents that images are referenced as @image_1...; we assume a reference "
            "to a missing image is refused up front (the upstream model cannot resolve it)"
        ),
    ),
}
