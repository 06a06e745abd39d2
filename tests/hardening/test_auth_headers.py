"""Keys are matched on their UTF-8 bytes; a repeated header is refused the same way by auth
and by fault rules (issue #11: defect 9)."""

from __future__ import annotations

import httpx
import pytest

from mock_server.domain.backend import manual_backend
from mock_server.settings import Settings
from mock_server.web.app import create_asgi
from tests.conftest import BASE_URL, seed_request

pytestmark = pytest.mark.anyio


def client_for(settings: Settings) -> httpx.AsyncClient:
    backend, _ = manual_backend(settings)
    transport = httpx.ASGITransport(app=create_asgi(backend=backend))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


@pytest.mark.parametrize("key", ["clé-secrète", "ключ", "鍵🔑"])
async def test_a_non_ascii_key_matches_its_utf8_bytes(key: str) -> None:
    async with client_for(Settings(api_keys=(key,))) as http:
        ok = await http.get("/account/info", headers=[(b"x-api-key", key.encode("utf-8"))])
        other = await http.get("/account/info", headers=[(b"x-api-key", b"nope")])
    assert ok.status_code == 200, ok.text
    assert other.status_code == 401


@pytest.mark.parametrize("path", ["/account/info", "/api/v1/task/abc"])
async def test_two_api_keys_are_a_400_for_auth(path: str) -> None:
    async with client_for(Settings()) as http:
        response = await http.get(path, headers=[(b"x-api-key", b"a"), (b"x-api-key", b"b")])
    assert response.status_code == 400, response.text
    assert "x-api-key" in response.json()["message"]


async def test_two_api_keys_are_a_400_for_fault_rules_too() -> None:
    async with client_for(Settings()) as http:
        rule = await http.post("/_mock/faults", json={"fault": "503", "api_key": "b"})
        assert rule.status_code == 201
        response = await http.get(
            "/account/info", headers=[(b"x-api-key", b"a"), (b"x-api-key", b"b")]
        )
    assert response.status_code == 400, response.text
    assert "x-api-key" in response.json()["message"]


async def test_two_fault_headers_are_a_400() -> None:
    async with client_for(Settings()) as http:
        response = await http.post(
            "/api/v1/task",
            json=seed_request(),
            headers=[(b"x-api-key", b"k"), (b"x-mock-fault", b"503"), (b"x-mock-fault", b"429")],
        )
    assert response.status_code == 400, response.text
    assert "X-Mock-Fault" in response.json()["message"]
