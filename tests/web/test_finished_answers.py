"""A finished task's GET answer is built once, and never served for another record."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from mock_server.domain import prepared as prepared_module
from mock_server.domain.backend import Backend, manual_backend
from mock_server.domain.clock import ManualClock
from mock_server.domain.render import envelope_json
from mock_server.settings import Settings
from mock_server.web import answers
from mock_server.web.app import create_asgi
from tests.conftest import BASE_URL, KEY, seed_request

pytestmark = pytest.mark.anyio


def fake() -> tuple[Backend, ManualClock, httpx.AsyncClient]:
    backend, clock = manual_backend(Settings(seed=1))
    transport = httpx.ASGITransport(app=create_asgi(backend=backend))
    return backend, clock, httpx.AsyncClient(transport=transport, base_url=BASE_URL)


async def create(http: httpx.AsyncClient, prompt: str) -> str:
    body: dict[str, Any] = seed_request()
    body["input"]["prompt"] = prompt
    answer = await http.post("/api/v1/task", json=body, headers=KEY)
    task_id: str = answer.json()["data"]["task_id"]
    return task_id


async def get(http: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    answer = await http.get(f"/api/v1/task/{task_id}", headers=KEY)
    assert answer.status_code == 200
    data: dict[str, Any] = answer.json()["data"]
    return data


async def test_a_finished_answer_is_kept_and_equals_a_fresh_rendering() -> None:
    backend, clock, http = fake()
    async with http:
        task_id = await create(http, "a cat")
        assert (await get(http, task_id))["status"] == "pending"
        clock.advance(3600)
        first = await http.get(f"/api/v1/task/{task_id}", headers=KEY)
        second = await http.get(f"/api/v1/task/{task_id}", headers=KEY)
    assert first.content == second.content
    assert json.loads(first.content)["data"]["status"] == "completed"
    view = backend.get(KEY["x-api-key"], task_id)
    assert first.content == envelope_json(view).encode()


async def test_a_running_task_is_never_kept() -> None:
    memo = answers.FinishedAnswers()
    backend, clock = manual_backend(Settings())
    view = backend.create("k", seed_request(), BASE_URL)
    memo.answer(view)
    assert len(memo) == 0
    clock.advance(3600)
    memo.answer(backend.get("k", view.task_id))
    assert len(memo) == 1


async def test_after_a_reset_the_same_id_answers_its_new_task() -> None:
    backend, clock, http = fake()
    async with http:
        old = await create(http, "a cat")
        clock.advance(3600)
        assert (await get(http, old))["input"]["prompt"] == "a cat"
        backend.reset()  # same seed: the next task gets the same id
        new = await create(http, "a dog")
        clock.advance(3600)
        assert new == old
        assert (await get(http, new))["input"]["prompt"] == "a dog"


async def _prompt_after_a_reset() -> str:
    """The prompt GET shows for a new task created after a reset under the old task's id."""
    backend, clock, http = fake()
    async with http:
        old = await create(http, "a cat")
        clock.advance(3600)
        await get(http, old)
        backend.reset()
        new = await create(http, "a dog")
        clock.advance(3600)
        prompt: str = (await get(http, new))["input"]["prompt"]
    return prompt


async def test_the_reset_check_catches_answers_kept_by_id_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    by_id: dict[str, bytes] = {}

    def keyed_by_id(self: answers.FinishedAnswers, view: Any) -> bytes:
        return by_id.setdefault(view.task_id, envelope_json(view).encode())

    monkeypatch.setattr(answers.FinishedAnswers, "answer", keyed_by_id)
    assert await _prompt_after_a_reset() == "a cat"  # the stale answer


async def test_the_reset_check_catches_a_kept_answer_found_by_id_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def by_id(self: answers.FinishedAnswers, record: Any) -> bytes | None:
        found = self._found.get(record.task_id)
        return found[2] if found is not None else None

    monkeypatch.setattr(answers.FinishedAnswers, "kept", by_id)
    assert await _prompt_after_a_reset() == "a cat"  # the stale answer


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answers, "KEPT", 3)
    memo = answers.FinishedAnswers()
    backend, clock = manual_backend(Settings(max_tasks=0))
    ids = [backend.create("k", seed_request(), BASE_URL).task_id for _ in range(5)]
    clock.advance(3600)
    for task_id in ids:
        memo.answer(backend.get("k", task_id))
    assert len(memo) == 3


def creates(memo: answers.CreatedAnswers, clock_steps: int = 5) -> list[tuple[str, str]]:
    """(answer, fresh rendering) of creates of one prepared body, the clock moving between."""
    backend, clock = manual_backend(Settings())
    pack = backend.packs.lookup("kling", "omni_video_generation")
    ready = prepared_module.prepare(pack, seed_request(), backend.prices)
    found = []
    for n in range(clock_steps):
        base = BASE_URL if n < 3 else "http://127.0.0.1:8000"
        view = backend.create_prepared("k", ready, base)
        found.append((memo.answer(ready, view), envelope_json(view)))
        clock.advance(1.5)
    return found


def test_a_create_answer_from_the_template_equals_a_fresh_rendering() -> None:
    found = creates(answers.CreatedAnswers())
    assert all(answer == fresh for answer, fresh in found)
    assert len({answer for answer, _ in found}) == len(found)  # every id and instant differs


def test_the_template_check_catches_a_template_that_keeps_the_first_instant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mock_server.domain.render import rfc3339

    first: list[str] = []

    def stuck(ns: int | None) -> str:  # the instant of the first create, for every create
        if not first:
            first.append(rfc3339(ns))
        return first[0]

    monkeypatch.setattr(answers, "rfc3339_once", stuck)
    found = creates(answers.CreatedAnswers())
    assert not all(answer == fresh for answer, fresh in found)
