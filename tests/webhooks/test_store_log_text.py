"""The shared delivery log's entry text: each attempt as the JSON array of its fields, and the
refused lane's lines encoded with their shared parts once, byte for byte the same."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator

from hypothesis import given
from hypothesis import strategies as st

from mock_server.webhooks.log import Attempt, refused_attempt
from mock_server.webhooks.shared import attempt_text, refused_texts

texts = st.text(max_size=12)
attempts = st.builds(
    Attempt,
    event=texts,
    task_id=texts,
    url=texts,
    attempt=st.integers(1, 9),
    at_ns=st.integers(0, 2**63),
    status=st.none() | st.integers(100, 599),
    error=texts,
    latency_ms=st.floats(0, 1e6),
    result=st.sampled_from(["delivered", "retrying", "gave_up", "rejected"]),
    redelivery=st.booleans(),
    chaos=texts,
)
lines = st.lists(st.tuples(st.integers(0, 2**63), texts), max_size=4).map(tuple)


def generic(attempt: Attempt) -> str:
    """The encoding the store log had before (every field, through ``astuple``)."""
    return json.dumps(dataclasses.astuple(attempt), separators=(",", ":"))


def refused_broken(
    task_id: str, url: str, error: str, found: tuple[tuple[int, str], ...]
) -> Iterator[str]:
    """A broken variant: the lines lose the redelivery flag's place (one field short)."""
    for text in refused_texts(task_id, url, error, found):
        yield text.replace(',false,""]', ',""]')


def same_as_generic(
    encode: Callable[[str, str, str, tuple[tuple[int, str], ...]], Iterator[str]],
    task_id: str,
    url: str,
    error: str,
    found: tuple[tuple[int, str], ...],
) -> bool:
    expected = [generic(refused_attempt(e, task_id, url, at, error)) for at, e in found]
    return list(encode(task_id, url, error, found)) == expected


@given(attempts)
def test_attempt_text_is_the_generic_encoding_and_reads_back(attempt: Attempt) -> None:
    text = attempt_text(attempt)
    assert text == generic(attempt)
    assert Attempt(*json.loads(text)) == attempt


@given(texts, texts, texts, lines)
def test_refused_lines_are_the_generic_encoding(
    task_id: str, url: str, error: str, found: tuple[tuple[int, str], ...]
) -> None:
    assert same_as_generic(refused_texts, task_id, url, error, found)


def test_the_check_catches_a_line_one_field_short() -> None:
    found = ((5, "completed"),)
    assert same_as_generic(refused_texts, "t1", "https://webhook.site/x", "offline", found)
    assert not same_as_generic(refused_broken, "t1", "https://webhook.site/x", "offline", found)
