"""/openapi.json is complete and true for the running fake (issue #11: defect 13)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_server.domain.backend import manual_backend
from mock_server.settings import Settings
from mock_server.web.app import create_app, create_asgi
from mock_server.web.openapi import openapi_document

pytestmark = pytest.mark.anyio


def app_operations(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every non-control route the app answers (HEAD aside)."""
    found = set()
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith("/_mock"):
            continue
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method.lower(), path))
    return found


def document_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "post", "put", "delete", "patch"}
    return {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in methods
    }


def test_every_route_of_the_app_is_documented() -> None:
    app = create_app(backend=manual_backend()[0])
    assert app_operations(app) == document_operations(openapi_document())


def test_the_check_catches_a_missing_route() -> None:
    document = openapi_document()
    del document["paths"]["/account/info"]
    app = create_app(backend=manual_backend()[0])
    assert app_operations(app) != document_operations(document)


def test_every_answer_code_of_the_faked_api_is_listed() -> None:
    create = openapi_document()["paths"]["/api/v1/task"]["post"]["responses"]
    assert set(create) == {"200", "400", "401", "402", "408", "413", "429", "500", "502", "503"}


async def test_servers_is_the_running_fake() -> None:
    backend, _ = manual_backend()
    transport = httpx.ASGITransport(app=create_asgi(backend=backend))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8123") as http:
        document = (await http.get("/openapi.json")).json()
    assert document["servers"] == [{"url": "http://127.0.0.1:8123"}]
    public, _ = manual_backend(Settings(public_url="http://fake.test:9000/"))
    transport = httpx.ASGITransport(app=create_asgi(backend=public))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:1") as http:
        document = (await http.get("/openapi.json")).json()
    assert document["servers"] == [{"url": "http://fake.test:9000"}]


def test_the_document_says_where_the_fake_is_stricter() -> None:
    stricter = " ".join(openapi_document()["x-piapi-mock-stricter"])
    assert "5.0" in stricter
    assert "15 seconds" in stricter
