"""The control gate: ``--control-token``, ``--no-control``, key fingerprints (issue #11: 10, 12)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from mock_server.domain.backend import Backend, manual_backend
from mock_server.settings import Settings
from mock_server.web.app import create_app, create_asgi
from mock_server.web.control import fingerprint
from tests.conftest import BASE_URL, KEY, seed_request

pytestmark = pytest.mark.anyio
TOKEN = "s3cret-tøken"


def control_paths(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route under /_mock, with path parameters filled in."""
    found: list[tuple[str, str]] = []
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith("/_mock"):
            filled = path.replace("{task_id}", "t1").replace("{rule_id}", "r1")
            found.extend((m, filled) for m in sorted(route.methods or {"GET"}) if m != "HEAD")
    return found


async def answers_without_token(asgi: Any, paths: list[tuple[str, str]]) -> list[str]:
    """The control paths that answer anything but 401 to a request without the token."""
    open_ones = []
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        for method, path in paths:
            response = await http.request(method, path, json={})
            if response.status_code != 401:
                open_ones.append(f"{method} {path} -> {response.status_code}")
    return open_ones


def guarded(**changes: Any) -> tuple[Backend, Any]:
    backend, _ = manual_backend(Settings(control_token=TOKEN, **changes))
    return backend, create_asgi(backend=backend)


async def test_every_control_route_needs_the_token() -> None:
    _, asgi = guarded()
    paths = control_paths(create_app(backend=manual_backend()[0]))
    assert len(paths) > 15
    assert await answers_without_token(asgi, paths) == []


async def test_the_check_catches_an_ungated_app() -> None:
    backend, _ = manual_backend(Settings(control_token=TOKEN))
    bare = create_app(backend=backend)  # no gate: the broken server
    assert await answers_without_token(bare, [("GET", "/_mock/health")]) != []


async def test_a_route_added_later_inherits_the_gate() -> None:
    _, asgi = guarded()
    app = asgi
    while not hasattr(app, "router"):  # gate -> faults -> body deadline -> fast path -> app
        app = app.app
    app.router.routes.insert(0, Route("/_mock/ui", lambda r: PlainTextResponse("ui")))
    assert await answers_without_token(asgi, [("GET", "/_mock/ui")]) == []
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        ok = await http.get("/_mock/ui", headers={b"x-mock-control-token": TOKEN.encode()})
    assert ok.text == "ui"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Mock-Control-Token": TOKEN},
        {"Authorization": f"Bearer {TOKEN}"},
        {"Cookie": f"piapi_mock_control_token={TOKEN}"},
    ],
)
async def test_the_token_opens_the_control_plane(headers: dict[str, str]) -> None:
    _, asgi = guarded()
    encoded = {k.encode(): v.encode() for k, v in headers.items()}
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        response = await http.get("/_mock/health", headers=encoded)
    assert response.status_code == 200


@pytest.mark.parametrize("given", ["wrong", TOKEN + "x", "", TOKEN[:-1]])
async def test_a_wrong_token_is_a_401_envelope_naming_the_token(given: str) -> None:
    _, asgi = guarded()
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        response = await http.post(
            "/_mock/reset", headers={b"x-mock-control-token": given.encode()}
        )
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == 401
    assert body["data"] is None
    assert "--control-token" in body["message"]
    assert "X-Mock-Control-Token" in body["message"]


async def test_the_api_needs_no_control_token() -> None:
    _, asgi = guarded()
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        created = await http.post("/api/v1/task", json=seed_request(), headers=KEY)
        assert created.status_code == 200
        assert (await http.get("/openapi.json")).status_code == 200


async def test_no_control_hides_every_control_path() -> None:
    backend, _ = manual_backend(Settings(control=False))
    asgi = create_asgi(backend=backend)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        for path in ["/_mock", "/_mock/health", "/_mock/ui", "/_mock/anything/later"]:
            response = await http.get(path)
            assert (response.status_code, response.text) == (404, "404 page not found")


@pytest.mark.parametrize("control", [True, False])
async def test_no_control_turns_off_fault_and_scenario_headers(control: bool) -> None:
    backend, clock = manual_backend(Settings(control=control))
    asgi = create_asgi(backend=backend)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        faulted = await http.post(
            "/api/v1/task", json=seed_request(), headers={**KEY, "X-Mock-Fault": "503"}
        )
        stuck = await http.post(
            "/api/v1/task", json=seed_request(), headers={**KEY, "X-Mock-Scenario": "fail"}
        )
        clock.advance(3600)
        task_id = stuck.json()["data"]["task_id"]
        status = (await http.get(f"/api/v1/task/{task_id}", headers=KEY)).json()["data"]["status"]
    if control:  # the check works: with control on, both headers act
        assert (faulted.status_code, status) == (503, "failed")
    else:
        assert (faulted.status_code, status) == (200, "completed")


async def test_control_tasks_show_fingerprints_never_keys() -> None:
    key = "sk-live-0123456789abcdef0123456789abcdef"
    backend, _ = manual_backend()
    asgi = create_asgi(backend=backend)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        await http.post("/api/v1/task", json=seed_request(), headers={"x-api-key": key})
        listed = (await http.get("/_mock/tasks")).text
        mine = (await http.get("/_mock/tasks", params={"owner": key})).json()
    assert key not in listed
    assert key[8:] not in listed
    assert mine["count"] == 1
    assert mine["tasks"][0]["owner"] == fingerprint(key)
    assert fingerprint(key).startswith("sk-l…")
    assert len(fingerprint(key)) == 17


def test_short_keys_show_nothing_of_themselves() -> None:
    assert fingerprint("k").startswith("…")
    assert fingerprint("test-key").startswith("te…")
    assert fingerprint("a") != fingerprint("b")
