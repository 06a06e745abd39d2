"""TaskRecord <-> JSON: generic over ``dataclasses.fields(TaskRecord)``, lossless for every
field (a new field of the lead's packs work flows through without touching the codec)."""

from __future__ import annotations

import dataclasses
import operator
import typing
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


texts = st.text(max_size=8) | st.sampled_from([codec._SENTINEL, f'"task_id":"{codec._SENTINEL}"'])
numbers = st.integers(0, 2**80)  # virtual instants up to 9000 AD exceed 64 bits
records = st.builds(
    TaskRecord,
    task_id=texts,
    owner=texts,
    model=texts,
    task_type=texts,
    input_json=texts,
    config_json=texts,
    aspect_ratio=texts,
    cost=numbers,
    private_pool=st.booleans(),
    base_url=texts,
    created_at=numbers,
    start_at=st.none() | numbers,
    run_ns=numbers,
    failure=st.none() | st.builds(Failure, st.integers(0, 9999), texts, texts),
    cancelled_at=st.none() | numbers,
    webhook=st.none() | st.builds(WebhookTarget, texts, texts),
    variant=texts,
    media=texts,
    prepaid=st.booleans(),
)
names = [f.name for f in dataclasses.fields(TaskRecord)]


def same_texts(base: TaskRecord, others: list[TaskRecord]) -> bool:
    """Does the templated encoding give the generic text for ``base`` and for each record
    made from it with some fields changed (the template of ``base`` seen first)?"""
    return all(codec.dumps(r) == codec.generic_dumps(r) for r in [base, *others])


@given(records, st.lists(st.tuples(st.sampled_from(names), records), max_size=4))
def test_dumps_is_the_generic_text(base: TaskRecord, changes: list[tuple[str, Any]]) -> None:
    others = [dataclasses.replace(base, **{name: getattr(o, name)}) for name, o in changes]
    assert same_texts(base, others)
    assert codec.loads(codec.dumps(base)) == base


def test_the_text_check_catches_a_template_keyed_on_too_few_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    varying = codec._getters()[1]
    kept = [n for n in names if n not in codec.VARYING and n != "input_json"]
    monkeypatch.setattr(codec, "_getters", lambda: (operator.attrgetter(*kept), varying))
    monkeypatch.setattr(codec, "_templates", {})
    base = full_record()
    assert not same_texts(base, [dataclasses.replace(base, input_json='{"prompt":"other"}')])


class IdOnlyMemo(codec.ReadMemo):
    """Broken: keeps a record by task id alone, whatever text is read."""

    def loads(self, task_id: str, raw: bytes) -> TaskRecord:
        kept = self._kept.get(task_id)
        return kept[1] if kept is not None else super().loads(task_id, raw)


def reads_follow_the_text(memo: codec.ReadMemo) -> bool:
    """The same text twice, then the task's changed text: is each read the text's record?"""
    record = full_record()
    changed = dataclasses.replace(record, cancelled_at=7)
    first, again = (memo.loads(record.task_id, codec.dumps(record).encode()) for _ in "ab")
    later = memo.loads(record.task_id, codec.dumps(changed).encode())
    return first == record and again is first and later == changed


def test_the_read_memo_follows_the_text() -> None:
    assert reads_follow_the_text(codec.ReadMemo())


def test_the_memo_check_catches_a_memo_keyed_by_id_alone() -> None:
    assert not reads_follow_the_text(IdOnlyMemo())


def test_the_read_memo_stays_bounded() -> None:
    memo = codec.ReadMemo(size=3)
    text = codec.dumps(full_record()).encode()
    for n in range(10):
        memo.loads(f"t{n}", text)
    assert len(memo._kept) <= 3
