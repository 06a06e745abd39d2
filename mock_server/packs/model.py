"""A loaded pack: what the fake does with a task of one ``(model, task_type)``."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from mock_server.packs.errors import PackError
from mock_server.packs.prices import PriceRule, PriceTable, to_points
from mock_server.packs.templates import Media, Template
from mock_server.packs.values import as_seconds, as_text, dimensions, value_of
from mock_server.provenance import Provenance

NS: Final = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Timing:
    """How long a task waits and renders: a base, a cost per output second, factors, jitter."""

    pending: tuple[float, float]
    base_seconds: float
    per_output_second: float
    jitter: float
    factors: Mapping[str, Mapping[str, float]]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Timing:
        """From a pack's (or variant's) ``timing`` object."""
        low, high = (float(x) for x in data.get("pending", (0.3, 1.0)))
        factors = {
            name: {str(k): float(v) for k, v in table.items()}
            for name, table in data.get("factors", {}).items()
        }
        return cls(
            (low, high),
            float(data["base_seconds"]),
            float(data.get("per_output_second", 0.0)),
            float(data.get("jitter", 0.0)),
            factors,
        )

    def nominal(self, values: Mapping[str, object], seconds: int) -> float:
        """Render seconds without jitter."""
        run = self.base_seconds + self.per_output_second * seconds
        for name, table in self.factors.items():
            run *= table.get(as_text(values.get(name)), 1.0)
        return run

    def draw(self, rng: random.Random, nominal_seconds: float) -> tuple[int, int]:
        """Seeded (pending, run) in nanoseconds: two draws from ``rng``, always in this order."""
        pending = rng.uniform(*self.pending)
        run = nominal_seconds * rng.uniform(1 - self.jitter, 1 + self.jitter)
        return round(pending * NS), round(run * NS)


@dataclass(frozen=True, slots=True)
class Link:
    """An input field naming an earlier task: same key, one of ``task_types``, in ``status``."""

    field: str
    task_types: frozenset[str]
    status: str
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class Variant:
    """The first variant whose ``when`` matches an input decides price, media and output."""

    key: str
    name: str
    when: Mapping[str, frozenset[str]]
    price: PriceRule
    media_kind: str
    media_count: int | str
    media_count_default: int
    templates: Mapping[str, Template]
    output: Mapping[str, Any]
    timing: Timing | None
    provenance: Provenance

    def matches(self, values: Mapping[str, object]) -> bool:
        """Whether every ``when`` field's value (or default) is one of its listed values."""
        return all(as_text(values.get(k)) in allowed for k, allowed in self.when.items())


@dataclass(frozen=True, slots=True)
class Decision:
    """What a pack decided for one input shape: variant, media key, nominal render seconds."""

    variant: Variant
    media_key: str
    nominal_seconds: float
    timing: Timing
    #: Points by price table (filled by the pricing layer as tables are asked for).
    points: dict[object, int]

    def draw(self, rng: random.Random) -> tuple[int, int]:
        """Seeded (pending, run) in nanoseconds (:meth:`Timing.draw` of the decided length)."""
        return self.timing.draw(rng, self.nominal_seconds)


def _key_text(value: object) -> object:
    """A value as part of a memo key (containers by their text; bool apart from int)."""
    if value is None or isinstance(value, str | int | float):
        return (type(value), value)
    return repr(value)


@dataclass(frozen=True, slots=True)
class Pack:
    """One task type's contract as data (see ``docs/packs.md``)."""

    name: str
    model: str
    task_type: str
    title: str
    directory: Path
    provenance: Provenance
    defaults: Mapping[str, Any]
    rules: tuple[str, ...]
    usage_type: str
    charge: str
    logs_json: str
    detail_json: str
    seconds_field: str
    shots_field: str
    shot_default: int
    timing: Timing
    links: tuple[Link, ...]
    variants: tuple[Variant, ...]
    prices: Mapping[str, PriceTable]
    default_table: str
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)
    _decisions: dict[tuple[object, ...], Decision] = field(
        repr=False, default_factory=dict, compare=False
    )
    #: The input fields any decision of the pack reads (set at load).
    relevant: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "relevant", self._relevant())

    def _relevant(self) -> tuple[str, ...]:
        """The input fields any decision of the pack reads (variant, price, timing, media)."""
        names = {"aspect_ratio", "resolution", self.seconds_field, *self.timing.factors}
        for v in self.variants:
            names |= {*v.when, *v.price.keys, *(v.timing.factors if v.timing else ())}
            if isinstance(v.media_count, str):
                names.add(v.media_count)
        return tuple(sorted(n for n in names if n))

    def decide(self, task_input: Mapping[str, Any]) -> Decision:
        """What the pack decides for an input, memoised by the fields it reads (hot path)."""
        seconds = self.seconds(task_input)
        get = task_input.get
        key = (seconds, *(_key_text(get(name)) for name in self.relevant))
        found = self._decisions.get(key)
        if found is None:
            found = self._decide(task_input, seconds)
            if len(self._decisions) < 4096:
                self._decisions[key] = found
        return found

    def _decide(self, task_input: Mapping[str, Any], seconds: int) -> Decision:
        variant = self.variant(task_input)
        timing = self.timing_for(variant)
        return Decision(
            variant,
            self.media(variant, task_input).key,
            timing.nominal(self.values(task_input), seconds),
            timing,
            {},
        )

    @property
    def pair(self) -> str:
        """``model/task_type``, as the kit's ``--task-type`` and links spell it."""
        return f"{self.model}/{self.task_type}"

    def values(self, task_input: Mapping[str, Any]) -> _Values:
        """The input with the pack's defaults for absent fields (read lazily)."""
        return _Values(task_input, self.defaults)

    def variant(self, task_input: Mapping[str, Any]) -> Variant:
        """The variant that decides this input's price, media and output."""
        values = self.values(task_input)
        for variant in self.variants:
            if variant.matches(values):
                return variant
        raise PackError(f"pack {self.name}: no variant matches this input")

    def seconds(self, task_input: Mapping[str, Any]) -> int:
        """Output seconds: the sum of the shots when given, else the duration (or default).

        A value that does not parse as seconds (which ``--strictness documented`` can let
        through when only a guessed rule refused it) counts as the default, never as an error.
        """
        shots = task_input.get(self.shots_field) if self.shots_field else None
        if shots and isinstance(shots, list):
            return sum(
                _seconds_or(s.get("duration", self.shot_default), self.shot_default)
                if isinstance(s, dict)
                else 0
                for s in shots
            )
        raw = value_of(task_input, self.defaults, self.seconds_field) if self.seconds_field else 0
        return _seconds_or(raw, self.defaults.get(self.seconds_field, 0))

    def table(self, name: str) -> PriceTable:
        """The price table ``name`` if the pack has one, else its default table."""
        return self.prices.get(name) or self.prices[self.default_table]

    def count(self, variant: Variant, task_input: Mapping[str, Any]) -> int:
        """How many files a task makes (``batch_size``-style fields)."""
        if isinstance(variant.media_count, int):
            return variant.media_count
        raw = task_input.get(variant.media_count, variant.media_count_default)
        return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0 else 1

    def usd(
        self, task_input: Mapping[str, Any], table: PriceTable | str, variant: Variant | None = None
    ) -> Decimal:
        """The price of a (valid) input in USD, by a table (or a table name)."""
        if isinstance(table, str):
            table = self.table(table)
        variant = variant or self.variant(task_input)
        rule = variant.price
        unit = rule.unit_usd(table, self.values(task_input))
        if rule.per == "second":
            return unit * self.seconds(task_input)
        if rule.per == "unit":
            return unit * self.count(variant, task_input)
        return unit

    def points(
        self, task_input: Mapping[str, Any], table: PriceTable | str, variant: Variant | None = None
    ) -> int:
        """The price of a (valid) input in points, rounded half up."""
        if isinstance(table, str):
            table = self.table(table)
        return to_points(self.usd(task_input, table, variant), table.points_per_usd)

    def media(self, variant: Variant, task_input: Mapping[str, Any]) -> Media:
        """What a task of this input produces."""
        values = self.values(task_input)
        width, height = dimensions(
            as_text(values.get("aspect_ratio") or "16:9"),
            as_text(values.get("resolution") or "720p"),
        )
        seconds = self.seconds(task_input)
        return Media(variant.media_kind, self.count(variant, task_input), width, height, seconds)

    def timing_for(self, variant: Variant) -> Timing:
        """The variant's timing, or the pack's."""
        return variant.timing or self.timing


class _Values(Mapping[str, object]):
    """An input seen through the pack's defaults (no copy of the input is made)."""

    __slots__ = ("_defaults", "_input")

    def __init__(self, task_input: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
        self._input = task_input
        self._defaults = defaults

    def __getitem__(self, name: str) -> object:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def get(self, name: str, default: Any = None) -> Any:
        """The input's value, else the pack's default, else ``default`` (the hot path)."""
        found = self._input.get(name)
        if found is None:
            found = self._defaults.get(name, default)
        return found

    def __iter__(self) -> Any:
        return iter({**self._defaults, **self._input})

    def __len__(self) -> int:
        return len({**self._defaults, **self._input})


def _seconds_or(value: object, fallback: object) -> int:
    """``value`` in whole seconds, else ``fallback``'s, else 0."""
    for candidate in (value, fallback):
        try:
            return as_seconds(candidate) if candidate is not None else 0
        except PackError:
            continue
    return 0
