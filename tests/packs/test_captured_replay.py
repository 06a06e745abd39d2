"""Replay what real clients send (tests/packs/captured/) against the fake, in process.

For each captured request: create it, move the manual clock on, get the task, and check that
every field the client reads exists and every media URL it reads downloads as real media of
the right kind. Requests PiAPI does not serve (piapi-skills' invented task types) must get the
400 that names model and task_type.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

import httpx
import pytest

from mock_server.domain.backend import Backend
from tests.conftest import KEY
from tests.packs.packdata import KIND_SUFFIX, at, captured, magic_of, missing, urls_under

pytestmark = pytest.mark.anyio

#: Longer than any pack's slowest render (motion control: ~8.5 min, with jitter).
DONE_AFTER_S = 1800.0
ORIGIN = {
    "model": "kling",
    "task_type": "video_generation",
    "input": {"prompt": "a corgi surfing", "version": "1.6", "mode": "std", "duration": 5},
}

CASES = [
    pytest.param(client, request, id=f"{client}: {request['name']}")
    for client, data in captured().items()
    for request in data["requests"]
]


async def finished(client: httpx.AsyncClient, backend: Backend, body: dict[str, Any]) -> Any:
    """Create ``body``, let the clock run past its end, and GET it (the whole envelope)."""
    created = await client.post("/api/v1/task", json=body, headers=KEY)
    assert created.status_code == 200, created.text
    envelope = created.json()
    assert envelope["code"] == 200
    assert isinstance(at(envelope, "/data/task_id"), str)
    backend.advance(DONE_AFTER_S)
    got = await client.get(f"/api/v1/task/{envelope['data']['task_id']}", headers=KEY)
    assert got.status_code == 200, got.text
    return got.json()


async def download(client: httpx.AsyncClient, url: str) -> bytes:
    response = await client.get(url)
    assert response.status_code == 200, url
    return response.content


@pytest.mark.parametrize(("name", "request_"), CASES)
async def test_captured_request_completes_with_what_its_client_reads(
    client: httpx.AsyncClient, backend: Backend, name: str, request_: dict[str, Any]
) -> None:
    data = captured()[name]
    body = json.loads(json.dumps(request_["body"]))
    if request_.get("expect") == "refused":
        refused = await client.post("/api/v1/task", json=body, headers=KEY)
        assert refused.status_code == 400
        envelope = refused.json()
        assert envelope["data"] is None
        assert "task_type" in envelope["message"]
        assert "model" in envelope["message"]
        return
    if "needs" in request_:
        origin = await finished(client, backend, ORIGIN)
        assert origin["data"]["status"] == "completed"
        text = json.dumps(body).replace("{{origin_task_id}}", origin["data"]["task_id"])
        body = json.loads(text)
    task = await finished(client, backend, body)
    assert task["data"]["status"] == "completed", task
    assert missing(task, request_, data["reads"]) == []
    for item in request_.get("media", []):
        content = await download(client, at(task, item["pointer"]))  # type: ignore[arg-type]
        assert magic_of(content, KIND_SUFFIX[item["kind"]]), item
    if data.get("walk_urls"):
        urls = urls_under(task["data"]["output"])
        assert urls, task["data"]["output"]
        for url in urls:
            content = await download(client, url)
            assert magic_of(content, PurePosixPath(url).suffix), url


def test_a_finished_task_without_what_the_client_reads_is_caught() -> None:
    request = {
        "reads": ["/data/output/video_url"],
        "reads_any": [["/data/output/image_url", "/data/output/video_url"]],
        "media": [{"pointer": "/data/output/works/0/video/resource_without_watermark"}],
    }
    omni_like = {
        "code": 200,
        "data": {"status": "completed", "output": {"video": "https://x/v.mp4"}},
    }
    assert missing(omni_like, request, ["/code", "/data/meta/usage/consume"]) == [
        "/data/meta/usage/consume",
        "/data/output/video_url",
        "/data/output/image_url or /data/output/video_url",
        "/data/output/works/0/video/resource_without_watermark",
    ]


def test_the_download_check_refuses_the_wrong_kind() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(8)
    assert magic_of(png, ".png")
    assert not magic_of(png, ".mp4")
    assert not magic_of(b"\x00\x00\x00\x18ftyp", ".mp3")
