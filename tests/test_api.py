"""The faked routes, driven in-process on a manual clock; every body checked against the schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from mock_server.domain.backend import Backend
from mock_server.domain.clock import DEFAULT_EPOCH_NS
from mock_server.domain.render import rfc3339
from mock_server.schema_registry import default_registry
from tests.conftest import KEY, seed_request

pytestmark = pytest.mark.anyio


def valid(kind: str, response: httpx.Response) -> dict[str, Any]:
    """The JSON body, after checking it against ``kind``'s schema."""
    body: dict[str, Any] = response.json()
    assert default_registry().errors(kind, body) == [], body
    return body


def ns(stamp: str) -> int:
    """Parse an RFC 3339 UTC stamp with up to 9 fractional digits to Unix nanoseconds."""
    whole, _, fraction = stamp.removesuffix("Z").partition(".")
    seconds = datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp()
    return int(seconds) * 1_000_000_000 + int(fraction.ljust(9, "0"))


async def create(client: httpx.AsyncClient, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await client.post("/api/v1/task", json=body or seed_request(), headers=KEY)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = valid("response", response)["data"]
    return data


async def get(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/task/{task_id}", headers=KEY)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = valid("response", response)["data"]
    return data


async def test_create_answers_the_whole_pending_task(client: httpx.AsyncClient) -> None:
    sent = seed_request()
    data = await create(client, sent)
    assert data["status"] == "pending"
    assert data["input"] == sent["input"]
    assert data["config"] == sent["config"]
    assert data["output"] == {"video": ""}
    assert data["meta"]["created_at"] == rfc3339(DEFAULT_EPOCH_NS)
    assert data["meta"]["started_at"] == data["meta"]["ended_at"] == "0001-01-01T00:00:00Z"
    assert data["meta"]["usage"] == {"type": "point", "frozen": 4_500_000, "consume": 0}
    assert data["meta"]["is_using_private_pool"] is False
    assert (data["detail"], data["logs"]) == (None, None)
    assert data["error"] == {"code": 0, "raw_message": "", "message": "", "detail": None}
    assert list(data) == [
        "task_id",
        "model",
        "task_type",
        "status",
        "config",
        "input",
        "output",
        "meta",
        "detail",
        "logs",
        "error",
    ]


async def test_input_is_echoed_with_sorted_keys_as_go_marshals_a_map(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/v1/task", json=seed_request(), headers=KEY)
    text = response.text
    assert text.index('"aspect_ratio"') < text.index('"duration"') < text.index('"version"')


async def test_the_seed_response_example_is_reproduced(client: httpx.AsyncClient) -> None:
    """2 + 3 s shots, 720p, audio: 5 s x $0.20 = $1.00 = 10,000,000 points, as in the seed."""
    body = seed_request()
    body["input"] = {
        "aspect_ratio": "16:9",
        "enable_audio": True,
        "multi_shots": [
            {"duration": 2, "prompt": "a dog stands near sea"},
            {"duration": 3, "prompt": "the dog turns around and walks on beach"},
        ],
        "resolution": "720p",
        "version": "3.0",
    }
    data = await create(client, body)
    assert data["meta"]["usage"]["frozen"] == 10_000_000
    assert data["input"] == body["input"]


async def test_lifecycle_moves_with_the_clock_only(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    task_id = (await create(client))["task_id"]
    assert (await get(client, task_id))["status"] == "pending"
    backend.advance(1.0)
    processing = await get(client, task_id)
    assert processing["status"] == "processing"
    assert processing["meta"]["started_at"] != "0001-01-01T00:00:00Z"
    backend.advance(60)
    assert (await get(client, task_id))["status"] == "processing"
    backend.advance(60)
    done = await get(client, task_id)
    assert done["status"] == "completed"
    assert done["meta"]["usage"]["consume"] == done["meta"]["usage"]["frozen"] == 4_500_000
    assert done["meta"]["started_at"] == processing["meta"]["started_at"]
    meta = done["meta"]
    assert ns(meta["created_at"]) < ns(meta["started_at"]) < ns(meta["ended_at"])
    video = await client.get(done["output"]["video"])
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"


async def test_video_is_absent_until_completed(client: httpx.AsyncClient) -> None:
    task_id = (await create(client))["task_id"]
    response = await client.get(f"/storage/videos/{task_id}.mp4")
    assert response.status_code == 404


async def test_cancel_while_pending(client: httpx.AsyncClient, backend: Backend) -> None:
    task_id = (await create(client))["task_id"]
    response = await client.delete(f"/api/v1/task/{task_id}", headers=KEY)
    assert response.status_code == 200
    assert valid("cancel", response) == {"code": 200, "message": f"task {task_id} canceled"}
    cancelled = await get(client, task_id)
    assert cancelled["status"] == "failed"
    assert cancelled["error"]["message"] == "task canceled by user"
    backend.advance(500)
    assert (await get(client, task_id))["status"] == "failed"


async def test_cancel_through_the_cli_route(client: httpx.AsyncClient) -> None:
    task_id = (await create(client))["task_id"]
    response = await client.post(f"/api/v1/task/{task_id}/cancel", headers=KEY)
    assert response.json()["message"] == f"task {task_id} canceled"


async def test_cancel_after_pending_is_refused(client: httpx.AsyncClient, backend: Backend) -> None:
    task_id = (await create(client))["task_id"]
    backend.advance(2)
    response = await client.delete(f"/api/v1/task/{task_id}", headers=KEY)
    assert response.status_code == 400
    body = valid("error", response)
    assert "processing" in body["message"]
    assert (await get(client, task_id))["status"] == "processing"


async def test_auth_missing_empty_and_header_case(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"x-api-key": ""}, {"x-api-key": "  "}):
        response = await client.post("/api/v1/task", json=seed_request(), headers=headers)
        assert response.status_code == 401
        assert valid("error", response)["code"] == 401
    response = await client.post("/api/v1/task", json=seed_request(), headers={"X-API-Key": "k"})
    assert response.status_code == 200


async def test_a_task_is_visible_only_to_its_key(client: httpx.AsyncClient) -> None:
    task_id = (await create(client))["task_id"]
    other = {"x-api-key": "someone-else"}
    for response in (
        await client.get(f"/api/v1/task/{task_id}", headers=other),
        await client.delete(f"/api/v1/task/{task_id}", headers=other),
    ):
        assert response.status_code == 404
        assert valid("error", response)["message"] == f"task {task_id} not found"


async def test_unknown_task_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/task/does-not-exist", headers=KEY)
    assert response.status_code == 404
    valid("error", response)


async def test_private_service_mode(client: httpx.AsyncClient) -> None:
    body = seed_request()
    body["config"]["service_mode"] = "private"
    assert (await create(client, body))["meta"]["is_using_private_pool"] is True


async def test_config_absent_is_echoed_as_go_zero_values(client: httpx.AsyncClient) -> None:
    body = seed_request()
    del body["config"]
    data = await create(client, body)
    assert data["config"] == {"service_mode": "", "webhook_config": {"endpoint": "", "secret": ""}}


async def test_unknown_paths_get_the_real_plain_text_404(client: httpx.AsyncClient) -> None:
    for method, path in [("GET", "/"), ("GET", "/api/v2/task"), ("PUT", "/api/v1/task")]:
        response = await client.request(method, path, headers=KEY)
        assert response.status_code == 404
        assert response.text == "404 page not found"
        assert response.headers["content-type"].startswith("text/plain")


async def test_account_info_counts_points(client: httpx.AsyncClient, backend: Backend) -> None:
    await create(client)
    await create(client)
    backend.advance(400)
    await create(client)
    response = await client.get("/account/info", headers=KEY)
    wallet = response.json()["data"]["wallet"]
    assert wallet["point_used"] == 9_000_000
    assert wallet["point_frozen"] == 4_500_000


async def test_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"] == "3.1.0"
    assert {"/api/v1/task", "/api/v1/task/{task_id}", "/account/info"} <= set(document["paths"])
    assert not any(p.startswith("/_mock") for p in document["paths"])


async def test_base_url_memo_accepts_a_list_server_address(backend: Backend) -> None:
    """Starlette's TestClient passes ``scope["server"]`` as a list (unhashable)."""
    from mock_server.web.app import create_asgi

    app = create_asgi(backend=backend)
    sent: list[dict[str, Any]] = []
    raw = json.dumps(seed_request()).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/task",
        "raw_path": b"/api/v1/task",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "http_version": "1.1",
        "headers": [(b"host", b"testserver"), (b"x-api-key", b"k")],
        "server": ["testserver", 80],
        "client": ["testclient", 5000],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    assert b'"video":""' in sent[1]["body"]
