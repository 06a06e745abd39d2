"""TaskRecord <-> JSON: generic over ``dataclasses.fields(TaskRecord)``, lossless for every
field (a new field of the lead's packs work flows through without touching the codec)."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest

from mock_server.domain.models import Failure, TaskRecord, WebhookTarget
from mock_server.stores import codec


def _value(name: str, hint: Any, index: int) -> Any:
    """A non-default value of type ``hint`` (distinct per field)."""
    options = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    kind = options[0]
    if kind is Failure:
        return Failure(1301 + index, f"message {name} ünï", f"raw {name}")
    if kind is WebhookTarget:
        return WebhookTarget(f"http://127.0.0.1:9/{name}", f"secret-{name}")
    if kind is bool:
        return True
    if kind is int:
        return 10**15 + index
    if kind is str:
        return f"{name}-value-{index}-\u00e9\u2603"
    raise AssertionError(f"no sample value for field {name}: {hint!r}; extend this test")


def full_record() -> TaskRecord:
    """A record whose every field differs from its default."""
    hints = typing.get_type_hints(TaskRecord)
    values = {
        f.name: _value(f.name, hints[f.name], i)
        for i, f in enumerate(dataclasses.fields(TaskRecord))
    }
    return TaskRecord(**values)


def test_round_trip_keeps_every_field() -> None:
    record = full_record()
    back = codec.loads(codec.dumps(record))
    for f in dataclasses.fields(TaskRecord):
        assert getattr(back, f.name) == getattr(record, f.name), f.name
    assert back == record


def test_round_trip_of_none_fields() -> None:
    record = dataclasses.replace(full_record(), failure=None, webhook=None, start_at=None)
    assert codec.loads(codec.dumps(record)) == record


def test_missing_fields_take_their_defaults() -> None:
    """A record stored before a field with a default existed still reads."""
    data = codec.to_dict(full_record())
    del data["cancelled_at"]
    assert codec.from_dict(data).cancelled_at is None


def test_a_lossy_codec_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The round-trip check bites: a codec that forgets the last field fails it."""
    names = codec._names()
    monkeypatch.setattr(codec, "_names", lambda: names[:-1])
    record = full_record()
    assert codec.loads(codec.dumps(record)) != record


def test_stored_text_must_be_an_object() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        codec.loads("[1, 2]")
