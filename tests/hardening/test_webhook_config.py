"""Webhook configs that can never be delivered are refused at create (issue #11: defect 11)."""

from __future__ import annotations

import httpx
import pytest

from mock_server.domain.backend import Backend
from tests.conftest import KEY, seed_request

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("endpoint", "secret", "field"),
    [
        ("http://127.0.0.1:9000/h", "a\r\nX-Evil: 1", "/config/webhook_config/secret"),
        ("http://127.0.0.1:9000/h", "nul\x00byte", "/config/webhook_config/secret"),
        ("http://127.0.0.1:9000/h", "clé", "/config/webhook_config/secret"),
        ("http://127.0.0.1:99999/h", "", "/config/webhook_config/endpoint"),
        ("http://127.0.0.1:0/h", "", "/config/webhook_config/endpoint"),
        ("http://[::1/h", "", "/config/webhook_config/endpoint"),
        ("http://127.0.0.1:x/h", "", "/config/webhook_config/endpoint"),
    ],
)
async def test_undeliverable_webhook_configs_are_400_at_create(
    client: httpx.AsyncClient, backend: Backend, endpoint: str, secret: str, field: str
) -> None:
    body = seed_request()
    body["config"]["webhook_config"] = {"endpoint": endpoint, "secret": secret}
    response = await client.post("/api/v1/task", json=body, headers=KEY)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert field in message
    assert "guess" in message
    assert len(backend.store) == 0


async def test_a_deliverable_config_is_accepted(client: httpx.AsyncClient) -> None:
    body = seed_request()
    body["config"]["webhook_config"] = {"endpoint": "http://127.0.0.1:9/h", "secret": "s3 ~!"}
    assert (await client.post("/api/v1/task", json=body, headers=KEY)).status_code == 200
