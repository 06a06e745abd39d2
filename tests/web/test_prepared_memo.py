"""A create body sent again is not parsed, judged or echoed again, and answers as if it were.

The web layer keeps the :class:`Prepared` of the last valid bodies by their raw bytes
(``Backend.prepared``). These checks count how often a body is prepared, and compare what a
remembered body answers with what a fresh fake answers to the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from mock_server.domain import prepared as prepared_module
from mock_server.domain.backend import Backend, manual_backend
from mock_server.resources import schemas_dir
from mock_server.settings import Settings
from mock_server.web import api
from mock_server.web.app import create_asgi
from tests.conftest import BASE_URL, KEY, seed_request

pytestmark = pytest.mark.anyio
VIDEO_EXAMPLE = schemas_dir() / "packs/kling-video_generation/examples/valid/documented-3.0.json"


def raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def with_prompt(prompt: str) -> bytes:
    body = seed_request()
    body["input"]["prompt"] = prompt
    return raw(body)


async def post(backend: Backend, content: bytes) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_asgi(backend=backend))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        return await http.post("/api/v1/task", content=content, headers=KEY)


def counting(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every body the web layer prepares (parses, validates, echoes)."""
    seen: list[bytes] = []
    real = api._prepare

    def spy(backend: Backend, request: Any, body: bytes) -> Any:
        seen.append(body)
        return real(backend, request, body)

    monkeypatch.setattr(api, "_prepare", spy)
    return seen


def task(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_a_body_sent_again_is_prepared_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = counting(monkeypatch)
    backend, _ = manual_backend(Settings(seed=3))
    body = raw(seed_request())
    first, second = task(await post(backend, body)), task(await post(backend, body))
    assert seen == [body]
    assert first["task_id"] != second["task_id"]
    assert first["input"] == second["input"] == seed_request()["input"]
    assert len(backend.prepared) == 1


async def test_a_remembered_body_answers_as_a_fresh_fake_does() -> None:
    body = raw(seed_request())
    warm, _ = manual_backend(Settings(seed=5))
    await post(warm, body)  # prepared here, and remembered
    cold, _ = manual_backend(Settings(seed=5))
    await post(cold, json.dumps(seed_request(), indent=1).encode())  # same draws, other bytes
    again_warm, again_cold = await post(warm, body), await post(cold, body)
    assert again_warm.content == again_cold.content


async def test_one_byte_apart_is_another_body(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = counting(monkeypatch)
    backend, _ = manual_backend(Settings())
    a, b = with_prompt("a cat"), with_prompt("a bat")  # same length
    assert len(a) == len(b)
    answers = [task(await post(backend, body))["input"]["prompt"] for body in (a, b, a, b)]
    assert answers == ["a cat", "a bat", "a cat", "a bat"]
    assert seen == [a, b]


async def test_the_check_catches_a_memo_keyed_too_coarsely(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found: dict[int, Any] = {}
    monkeypatch.setattr(prepared_module.PreparedMemo, "get", lambda self, r: found.get(len(r)))
    monkeypatch.setattr(
        prepared_module.PreparedMemo, "put", lambda self, r, p: found.setdefault(len(r), p)
    )
    backend, _ = manual_backend(Settings())
    a, b = with_prompt("a cat"), with_prompt("a bat")
    answers = [task(await post(backend, body))["input"]["prompt"] for body in (a, b)]
    assert answers != ["a cat", "a bat"]  # the broken memo answers b with a's task


async def test_a_rejected_body_is_judged_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = counting(monkeypatch)
    backend, _ = manual_backend(Settings())
    body = seed_request()
    body["input"]["duration"] = 99
    bad = raw(body)
    answers = [await post(backend, bad) for _ in range(3)]
    assert {a.status_code for a in answers} == {400}
    assert len({a.content for a in answers}) == 1
    assert "duration" in answers[0].json()["message"]
    assert seen == [bad] * 3
    assert len(backend.prepared) == 0


async def test_links_are_checked_on_every_create_of_the_same_body() -> None:
    backend, clock = manual_backend(Settings())
    video = VIDEO_EXAMPLE.read_bytes()
    origin = task(await post(backend, video))["task_id"]
    extend = raw(
        {
            "model": "kling",
            "task_type": "extend_video",
            "input": {"origin_task_id": origin, "prompt": "the camera keeps rising"},
        }
    )
    early = await post(backend, extend)  # the origin has not completed yet
    assert early.status_code == 400
    assert "origin_task_id" in early.json()["message"]
    clock.advance(3600)
    later = await post(backend, extend)  # same bytes, now it has
    assert task(later)["task_type"] == "extend_video"


async def test_reset_forgets_and_the_memo_is_bounded() -> None:
    backend, _ = manual_backend(Settings())
    for n in range(prepared_module.MEMO_SIZE + 20):
        await post(backend, with_prompt(f"prompt {n}"))
    assert len(backend.prepared) == prepared_module.MEMO_SIZE
    backend.reset()
    assert len(backend.prepared) == 0


def test_a_huge_body_is_not_kept() -> None:
    memo = prepared_module.PreparedMemo()
    backend, _ = manual_backend(Settings())
    pack = backend.packs.lookup("kling", "omni_video_generation")
    ready = prepared_module.prepare(pack, seed_request(), backend.prices)
    memo.put(b" " * (prepared_module.MEMO_BODY_BYTES + 1), ready)
    memo.put(b"{}", ready)
    assert len(memo) == 1
