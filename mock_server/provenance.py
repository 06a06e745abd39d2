"""Where a rule of the contract comes from: documented, observed in a real client, or a guess.

Every constraint in the schemas and every price, output template and link of a pack carries an
``x-provenance`` annotation; :class:`Provenance` is its Python form. Downstream, the fake's
``--strictness documented`` drops guesses, the contract kit reports a guess the server does not
share as drift (not a violation), and ``validate`` prints the source with each violation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

#: The annotation keyword, beside the rule it describes.
KEYWORD: Final = "x-provenance"

Grade = Literal["documented", "observed", "guess"]
GRADES: Final[tuple[Grade, ...]] = ("documented", "observed", "guess")
#: The field of the annotation that says where a grade's claim comes from.
_SOURCE_FIELD: Final[Mapping[str, str]] = {
    "documented": "url",
    "observed": "client",
    "guess": "reason",
}


@dataclass(frozen=True, slots=True)
class Provenance:
    """A rule's source: ``grade`` and ``source`` (a URL, a client and what it does, or a reason)."""

    grade: Grade
    source: str
    detail: str = ""

    @property
    def is_guess(self) -> bool:
        """Whether the rule is ours, not PiAPI's (documented and observed rules are PiAPI's)."""
        return self.grade == "guess"

    @classmethod
    def from_annotation(cls, annotation: object) -> Provenance:
        """Read an ``x-provenance`` object; ``ValueError`` names what is wrong with it."""
        if not isinstance(annotation, Mapping):
            raise ValueError(f"{KEYWORD} must be an object, not {type(annotation).__name__}")
        grade = annotation.get("grade")
        if grade not in GRADES:
            raise ValueError(f"{KEYWORD}.grade must be one of {', '.join(GRADES)}, not {grade!r}")
        field = _SOURCE_FIELD[grade]
        source = annotation.get(field)
        if not isinstance(source, str) or not source.strip():
            raise ValueError(f"{KEYWORD} of grade {grade!r} needs a non-empty {field!r}")
        detail = annotation.get("detail", "")
        if not isinstance(detail, str):
            raise ValueError(f"{KEYWORD}.detail must be a string")
        return cls(grade, source, detail)

    def annotation(self) -> dict[str, str]:
        """The ``x-provenance`` object this was read from."""
        found = {"grade": self.grade, _SOURCE_FIELD[self.grade]: self.source}
        if self.detail:
            found["detail"] = self.detail
        return found

    def __str__(self) -> str:
        text = f"{self.grade}: {self.source}"
        return f"{text} ({self.detail})" if self.detail else text


def of(schema: object) -> Provenance | None:
    """The provenance annotated on ``schema`` (a subschema or pack entry), if any."""
    if isinstance(schema, Mapping) and KEYWORD in schema:
        return Provenance.from_annotation(schema[KEYWORD])
    return None


def documented(url: str, detail: str = "") -> Provenance:
    """A rule PiAPI documents at ``url``."""
    return Provenance("documented", url, detail)


def observed(client: str, detail: str) -> Provenance:
    """A rule seen in a real client's code or traffic."""
    return Provenance("observed", client, detail)


def guess(reason: str) -> Provenance:
    """Our rule, with the reason we chose it."""
    return Provenance("guess", reason)
