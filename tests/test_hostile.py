"""Hostile and malformed input: always a 4xx PiAPI envelope naming the rule, never a 500,
and the fake keeps serving afterwards."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.schema_registry import default_registry
from tests.conftest import KEY, seed_request

pytestmark = pytest.mark.anyio
JSON = {**KEY, "content-type": "application/json"}


def with_input(**changes: Any) -> bytes:
    body = seed_request()
    body["input"].update(changes)
    return json.dumps(body).encode()


CASES: list[tuple[str, bytes, dict[str, str], int, str]] = [
    ("empty body", b"", JSON, 400, "body is empty"),
    ("whitespace body", b"  \n ", JSON, 400, "body is empty"),
    ("malformed", b'{"model": ', JSON, 400, "malformed JSON at line 1"),
    ("trailing garbage", b'{"a": 1} x', JSON, 400, "malformed JSON"),
    ("array", b"[1, 2]", JSON, 400, '/: [1, 2] is not of type "object"'),
    ("string", b'"task"', JSON, 400, "is not of type"),
    ("null", b"null", JSON, 400, "is not of type"),
    ("not utf-8", b'{"model": "\xff"}', JSON, 400, "not valid UTF-8"),
    ("utf-16", '{"model": "kling"}'.encode("utf-16"), JSON, 400, "UTF-8"),
    ("bom", b"\xef\xbb\xbf" + json.dumps(seed_request()).encode(), JSON, 400, "byte order mark"),
    ("NaN", b'{"input": NaN}', JSON, 400, "NaN is not valid JSON"),
    ("Infinity", b'{"input": -Infinity}', JSON, 400, "Infinity is not valid JSON"),
    ("deep nesting", b"[" * 200_000 + b"]" * 200_000, JSON, 400, "nested too deeply"),
    (
        "form post",
        b"model=kling",
        {**KEY, "content-type": "application/x-www-form-urlencoded"},
        400,
        "malformed JSON at line 1 column 1: Expecting value (Content-Type is ",
    ),
    (
        "latin-1 charset",
        b'{"a": "caf\xe9"}',
        {**KEY, "content-type": "application/json; charset=latin-1"},
        400,
        "not valid UTF-8 (byte 10) (charset is 'latin-1', send utf-8)",
    ),
    ("duration string", with_input(duration="5"), JSON, 400, "/input/duration"),
    ("duration huge", with_input(duration=10**400), JSON, 400, "/input/duration"),
    ("duration bool", with_input(duration=True), JSON, 400, "/input/duration"),
    ("prompt too long", with_input(prompt="x" * 2501), JSON, 400, "at most 2500 allowed"),
    ("shots not a list", with_input(multi_shots={"prompt": "a"}), JSON, 400, "/input/multi_shots"),
    ("images not urls", with_input(images=[1, None]), JSON, 400, "/input/images/0"),
    (
        "unknown model",
        json.dumps({**seed_request(), "model": "midjourney"}).encode(),
        JSON,
        400,
        'model "midjourney" with task_type "omni_video_generation" is not supported; '
        "supported (model/task_type): ",
    ),
    (
        "unknown task type",
        json.dumps({**seed_request(), "task_type": "lipsync"}).encode(),
        JSON,
        400,
        "/task_type",
    ),
    (
        "config wrong type",
        json.dumps({**seed_request(), "config": []}).encode(),
        JSON,
        400,
        "/config",
    ),
]


@pytest.mark.parametrize(
    ("name", "raw", "headers", "status", "text"), CASES, ids=[c[0] for c in CASES]
)
async def test_malformed_create_gets_a_clear_envelope(
    client: httpx.AsyncClient,
    name: str,
    raw: bytes,
    headers: dict[str, str],
    status: int,
    text: str,
) -> None:
    response = await client.post("/api/v1/task", content=raw, headers=headers)
    assert response.status_code == status, response.text
    body = response.json()
    assert default_registry().errors("error", body) == []
    assert body["code"] == status
    assert text in body["message"]


async def test_a_body_over_1_mib_is_413_without_reading_it_all(client: httpx.AsyncClient) -> None:
    huge = with_input(prompt="x" * (1024 * 1024 + 10))
    response = await client.post("/api/v1/task", content=huge, headers=JSON)
    assert response.status_code == 413
    assert "at most 1048576" in response.json()["message"]

    async def chunks() -> Any:
        for _ in range(40):
            yield b" " * 65536

    streamed = await client.post("/api/v1/task", content=chunks(), headers=JSON)
    assert streamed.status_code == 413
    assert "over 1048576" in streamed.json()["message"]


async def test_lone_surrogates_and_unicode_are_echoed_not_crashed(
    client: httpx.AsyncClient,
) -> None:
    raw = with_input(prompt="caf\u00e9 \U0001f3ac \u4e2d").replace(b"\\u00e9", b"\\ud800")
    response = await client.post("/api/v1/task", content=raw, headers=JSON)
    assert response.status_code == 200
    assert response.json()["data"]["input"]["prompt"].startswith("caf\ud800")


async def test_unknown_extra_keys_real_clients_send_are_accepted(client: httpx.AsyncClient) -> None:
    raw = with_input(language="en", prefer_multi_shots=False, x_future_field={"a": [1]})
    response = await client.post("/api/v1/task", content=raw, headers=JSON)
    assert response.status_code == 200
    assert response.json()["data"]["input"]["x_future_field"] == {"a": [1]}


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_json_body_is_decoded_whatever_the_content_type_like_go(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    """``curl -d @body.json`` sends a form content type; Go's decoder does not care."""
    headers = {**KEY, "content-type": content_type} if content_type else KEY
    response = await client.post("/api/v1/task", content=with_input(), headers=headers)
    assert response.status_code == 200


async def test_control_plane_rejects_bad_bodies(client: httpx.AsyncClient) -> None:
    for raw in (b"[]", b'{"seconds": "5"}', b'{"seconds": -1}', b"{", b'{"seconds": true}'):
        response = await client.post("/_mock/clock/advance", content=raw)
        assert response.status_code == 400, raw
        assert default_registry().errors("error", response.json()) == []
    response = await client.post("/_mock/clock/speed", json={"speed": 5})
    assert response.status_code == 409
    assert "manual clock" in response.json()["message"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    raw=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False)
            | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=10), inner, max_size=4)
            ),
            max_leaves=20,
        ).map(lambda v: json.dumps(v).encode()),
    )
)
async def test_fuzzed_bodies_never_get_a_5xx(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.post("/api/v1/task", content=raw, headers=JSON)
    assert response.status_code in {200, 400}
    assert (
        default_registry().errors(
            "error" if response.status_code == 400 else "response", response.json()
        )
        == []
    )


async def test_still_serving_after_the_hostile_batch(client: httpx.AsyncClient) -> None:
    for _, raw, headers, _, _ in CASES:
        await client.post("/api/v1/task", content=raw, headers=headers)
    response = await client.post("/api/v1/task", json=seed_request(), headers=KEY)
    assert response.status_code == 200
