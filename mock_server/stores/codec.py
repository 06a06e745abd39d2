"""Task records as JSON text, generically over ``dataclasses.fields(TaskRecord)``.

A new field of :class:`TaskRecord` flows through with no change here: plain values (str, int,
bool, None) are written as they are, and a field whose type names a dataclass (``Failure``,
``WebhookTarget``) is written as an object of that dataclass's fields. A stored record that
lacks a field added later reads back with the field's default.

:func:`dumps` is on every create's path on a shared store, and most of a record is the same
for every task made from one body by one key (model, input, config, price, webhook...): those
parts are encoded once into a template (:func:`_template`, kept for :data:`TEMPLATES` field
combinations), and only the fields that differ per task (:data:`VARYING`) are encoded per
record. The text is the same, byte for byte, as the generic encoding's.
"""

from __future__ import annotations

import dataclasses
import json
import json.encoder
import operator
import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Final

from mock_server.domain.models import TaskRecord

_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@cache
def _nested() -> Mapping[str, type[Any]]:
    """Field name -> the dataclass its value is an instance of (if any)."""
    hints = typing.get_type_hints(TaskRecord)
    found: dict[str, type[Any]] = {}
    for f in dataclasses.fields(TaskRecord):
        hint = hints[f.name]
        union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        options = typing.get_args(hint) if union else (hint,)
        for option in options:
            if isinstance(option, type) and dataclasses.is_dataclass(option):
                found[f.name] = option
    return found


@cache
def _names() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(TaskRecord))


def to_dict(record: TaskRecord) -> dict[str, Any]:
    """A JSON-ready dict of every field."""
    nested = _nested()
    out: dict[str, Any] = {}
    for name in _names():
        value = getattr(record, name)
        if name in nested and value is not None:
            value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        out[name] = value
    return out


def from_dict(data: Mapping[str, Any]) -> TaskRecord:
    """The record ``to_dict`` wrote (unknown keys are ignored, missing ones take defaults)."""
    kwargs = {name: data[name] for name in _names() if name in data}
    for name, kind in _nested().items():
        value = kwargs.get(name)
        if value is not None:
            kwargs[name] = kind(**value)
    return TaskRecord(**kwargs)


def generic_dumps(record: TaskRecord) -> str:
    """The record as compact JSON text, every field encoded (what :func:`dumps` matches)."""
    return _ENCODER.encode(to_dict(record))


#: The fields that differ from one task to the next (any other field is part of the template's
#: key, so a field added later is always right, if perhaps less often templated).
VARYING: Final = ("task_id", "created_at", "start_at", "run_ns", "failure", "cancelled_at")
#: Templates kept (then forgotten all at once): one per body and key in a load test.
TEMPLATES: Final = 256
_SENTINEL: Final = "@@piapi-mock-varying@@"
_templates: dict[tuple[Any, ...], str | None] = {}
_UNSEEN: Final = ""
#: A str as ``_ENCODER`` writes it (the C function itself: no encoder frame).
_STR: Final = json.encoder.encode_basestring


@cache
def _getters() -> tuple[Callable[[TaskRecord], Any], Callable[[TaskRecord], Any]]:
    """Two getters: the fixed fields' values (the template's key) and the varying ones'."""
    names = _names()
    fixed = [n for n in names if n not in VARYING]
    varying = [n for n in names if n in VARYING]
    return operator.attrgetter(*fixed), operator.attrgetter(*varying)


def _template(record: TaskRecord) -> str | None:
    """The generic text of ``record`` as a format string, a ``{}`` for each varying field's
    value (None if the cut is not clean: the caller encodes generically)."""
    data = to_dict(record)
    varying = [n for n in _names() if n in VARYING]
    for name in varying:
        data[name] = _SENTINEL
    text = _ENCODER.encode(data)
    parts: list[str] = []
    for name in varying:
        marker = f'"{name}":"{_SENTINEL}"'
        if text.count(marker) != 1:
            return None
        head, text = text.split(marker)
        parts.append(f'{head}"{name}":')
    parts.append(text)
    return "{}".join(part.replace("{", "{{").replace("}", "}}") for part in parts)


def _value(value: Any) -> str:
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        return _STR(value)
    if value is None:
        return "null"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return _ENCODER.encode(value)


def dumps(record: TaskRecord) -> str:
    """The record as compact JSON text (:func:`generic_dumps`' text, from a template)."""
    fixed, varying = _getters()
    key = fixed(record)
    try:
        parts = _templates.get(key, _UNSEEN)  # a template is never empty
    except TypeError:  # an unhashable value
        return generic_dumps(record)
    if parts is _UNSEEN:
        if len(_templates) >= TEMPLATES:
            _templates.clear()
        parts = _templates[key] = _template(record)
    if parts is None:
        return generic_dumps(record)
    return parts.format(*[_value(value) for value in varying(record)])


def loads(text: str | bytes) -> TaskRecord:
    """The record ``dumps`` wrote."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a stored task record must be a JSON object")
    return from_dict(data)


class ReadMemo:
    """The records last decoded per task id, with the text each came from: a poll of a running
    task reads the same text again and again, and decoding it costs about 10 us.

    :meth:`loads` returns the kept record when the text is the one it was decoded from (a
    byte comparison), so the record is shared between readers: for read-only use (a get's
    view), never to change and store back. At most ``size`` are kept (then all forgotten).
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._kept: dict[str, tuple[bytes, TaskRecord]] = {}

    def loads(self, task_id: str, raw: bytes) -> TaskRecord:
        """The record ``raw`` (the stored text of ``task_id``) holds."""
        kept = self._kept.get(task_id)
        if kept is not None and kept[0] == raw:
            return kept[1]
        record = loads(raw)
        if len(self._kept) >= self.size:
            self._kept.clear()
        self._kept[task_id] = (raw, record)
        return record

    def clear(self) -> None:
        self._kept.clear()
