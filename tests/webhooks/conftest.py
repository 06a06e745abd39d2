"""Webhook test fixtures: a real receiver on a free 127.0.0.1 port, in the test's event loop,
and helpers to create tasks that notify it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mock_server.domain.backend import Backend
from mock_server.webhooks import Dispatcher, dispatcher_of
from mock_server.webhooks.receiver import Receiver
from tests.conftest import KEY, seed_request


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A receiver that answers 200; tell it ``fail_next = N`` or ``mode = "hang"`` etc."""
    hooks = await Receiver().start()
    try:
        yield hooks
    finally:
        await hooks.stop()


@pytest.fixture
def dispatcher(backend: Backend) -> Dispatcher:
    """The backend's webhook dispatcher (in-process: the test drives it)."""
    return dispatcher_of(backend)


def hook_request(endpoint: str, secret: str = "") -> dict[str, Any]:
    """The seed's create request with its webhook pointed at ``endpoint``."""
    body = seed_request()
    body["config"]["webhook_config"] = {"endpoint": endpoint, "secret": secret}
    return body


async def create(client: httpx.AsyncClient, endpoint: str, secret: str = "") -> str:
    """Create a task that notifies ``endpoint``; its id."""
    response = await client.post("/api/v1/task", json=hook_request(endpoint, secret), headers=KEY)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["data"]["task_id"]
    return task_id


async def get(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    """The task as GET returns it now."""
    response = await client.get(f"/api/v1/task/{task_id}", headers=KEY)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data
