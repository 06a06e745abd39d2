"""Task records as JSON text, generically over ``dataclasses.fields(TaskRecord)``.

A new field of :class:`TaskRecord` flows through with no change here: plain values (str, int,
bool, None) are written as they are, and a field whose type names a dataclass (``Failure``,
``WebhookTarget``) is written as an object of that dataclass's fields. A stored record that
lacks a field added later reads back with the field's default.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
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
    nested = _nested()
    kwargs: dict[str, Any] = {}
    for name in _names():
        if name not in data:
            continue
        value = data[name]
        kind = nested.get(name)
        if kind is not None and value is not None:
            value = kind(**value)
        kwargs[name] = value
    return TaskRecord(**kwargs)


def dumps(record: TaskRecord) -> str:
    """The record as compact JSON text."""
    return _ENCODER.encode(to_dict(record))


def loads(text: str | bytes) -> TaskRecord:
    """The record ``dumps`` wrote."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a stored task record must be a JSON object")
    return from_dict(data)
