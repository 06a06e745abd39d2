"""What the create path's cheaper forms keep: shared strings in records, journal rows."""

from __future__ import annotations

import inspect
from dataclasses import fields
from typing import Any

import pytest

from mock_server.domain.backend import manual_backend
from mock_server.domain.journal import Journal, JournalEntry
from mock_server.domain.models import Failure, TaskRecord, WebhookTarget, stored_record
from mock_server.settings import Settings
from mock_server.web import body
from tests.conftest import seed_request


def record(**changes: Any) -> TaskRecord:
    values: dict[str, Any] = {
        "task_id": "t",
        "owner": "".join(["own", "er"]),  # built at run time: not the interned literal
        "model": "".join(["kl", "ing"]),
        "task_type": "omni",
        "input_json": "{}",
        "config_json": "".join(["{", "}"]),
        "aspect_ratio": "16:9",
        "cost": 1,
        "private_pool": False,
        "base_url": "".join(["http://", "x"]),
        "created_at": 0,
        "start_at": 0,
        "run_ns": 1,
        "variant": "".join(["v", "1"]),
        "media": "".join(["m", "1"]),
    }
    values.update(changes)
    return TaskRecord(**values)


SHARED = ("owner", "model", "task_type", "config_json", "aspect_ratio", "base_url", "variant")


def test_records_share_equal_strings() -> None:
    one, two = record(), record()
    for name in (*SHARED, "media"):
        assert getattr(one, name) is getattr(two, name), name


def test_the_sharing_check_sees_unshared_strings() -> None:
    """Strings built at run time are distinct objects unless interned: the check would see it."""
    assert "".join(["own", "er"]) is not "".join(["own", "er"])


def test_a_str_subclass_is_kept_as_it_is() -> None:
    class Text(str):
        pass

    found = record(owner=Text("owner"))
    assert type(found.owner) is Text


def test_backend_records_share_the_owner_and_the_body_strings() -> None:
    backend, _ = manual_backend()
    body = seed_request()
    first = backend.create("".join(["k", "ey"]), body, "http://x").record
    second = backend.create("".join(["k", "ey"]), body, "http://x").record
    for name in SHARED:
        assert getattr(first, name) is getattr(second, name), name
    assert first.task_id != second.task_id


def test_journal_add_equals_record_of_an_entry() -> None:
    added, recorded = Journal(3), Journal(3)
    rows = [(i, "POST", "/api/v1/task", 200, f"t{i}", "") for i in range(5)]
    for row in rows:
        added.add(*row)
        recorded.record(JournalEntry(*row))
    assert added.calls == recorded.calls == [JournalEntry(*row) for row in rows[-3:]]
    assert added.call_count == recorded.call_count == 5
    assert added.last == JournalEntry(*rows[-1])


def test_a_journal_that_records_its_own_way_is_given_entries() -> None:
    class Kept(Journal):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[JournalEntry] = []

        def record(self, entry: JournalEntry) -> None:
            self.seen.append(entry)

    journal = Kept()
    journal.add(1, "GET", "/api/v1/task/x", 404, "x", "not found")
    assert journal.seen == [JournalEntry(1, "GET", "/api/v1/task/x", 404, "x", "not found")]
    assert len(journal) == 0  # the base class's rows were not written behind its back


def values() -> dict[str, Any]:
    """Every field of a record with a value of its own (none left to a default)."""
    return {
        "task_id": "t",
        "owner": "k",
        "model": "kling",
        "task_type": "omni",
        "input_json": '{"prompt":"x"}',
        "config_json": "{}",
        "aspect_ratio": "16:9",
        "cost": 7,
        "private_pool": True,
        "base_url": "http://x",
        "created_at": 1,
        "start_at": 2,
        "run_ns": 3,
        "failure": Failure(1, "m", "r"),
        "cancelled_at": 4,
        "webhook": WebhookTarget("http://hook", "s"),
        "variant": "v",
        "media": "video/1",
        "prepaid": True,
    }


def takes_every_field(function: Any) -> bool:
    """Whether ``function``'s parameters are TaskRecord's fields, in their order."""
    return list(inspect.signature(function).parameters) == [f.name for f in fields(TaskRecord)]


def test_stored_record_builds_the_constructors_record() -> None:
    assert takes_every_field(stored_record)
    assert stored_record(**values()) == TaskRecord(**values())
    assert stored_record(*values().values()) == TaskRecord(*values().values())


def test_the_field_check_catches_a_builder_that_misses_a_field() -> None:
    def short(task_id: str, owner: str) -> None:
        """A builder that forgot most fields."""

    assert not takes_every_field(short)


def test_the_create_path_shares_a_public_url_with_a_trailing_slash() -> None:
    backend, _ = manual_backend(Settings(public_url="http://fake.test/"))
    body = seed_request()
    first = backend.create("k", body, "http://x").record
    second = backend.create("k", body, "http://x").record
    assert first.base_url == "http://fake.test"
    assert first.base_url is second.base_url


@pytest.mark.parametrize(
    ("value", "size"),
    [
        (b"300", 300),
        (b" 12 ", 12),
        (b"1" * 15, int("1" * 15)),
        (b"1" * 16, None),
        (b"", None),
        (b"-1", None),
        (b"1e3", None),
        ("²".encode(), None),
        (b"\xb2", None),
        (b" " * 19 + b"7", 7),
        (b" " * 20 + b"7", None),
        (bytearray(b"42"), 42),
    ],
)
def test_a_declared_size_is_read_the_same_the_second_time(value: bytes, size: int | None) -> None:
    body._SIZES.clear()
    assert body._declared_size(value) == size
    assert body._declared_size(value) == size  # remembered (bytes), or read again


def test_the_size_memo_is_bounded() -> None:
    body._SIZES.clear()
    for n in range(1000):
        body._declared_size(b"%d" % n)
    assert 0 < len(body._SIZES) <= 256
