"""Helpers of the scenario and fault tests: backends with settings, clients with a fake sleep."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from mock_server.domain.backend import Backend, manual_backend
from mock_server.domain.clock import ManualClock
from mock_server.domain.models import TaskView
from mock_server.domain.render import envelope_json
from mock_server.schema_registry import default_registry
from mock_server.settings import Settings
from mock_server.web import faults
from mock_server.web.app import create_app
from tests.conftest import BASE_URL, KEY, seed_request


class Sleeps:
    """A stand-in for ``asyncio.sleep`` that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@asynccontextmanager
async def open_client(
    backend: Backend, sleep: Sleeps | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client over the fault-wrapped app, latency recorded by ``sleep``."""
    app = faults.wrap(create_app(backend=backend), backend, sleep=sleep or Sleeps())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


def make(**settings: Any) -> tuple[Backend, ManualClock]:
    """A backend on a manual clock with ``settings``."""
    return manual_backend(Settings(**settings))


def body(**changes: Any) -> dict[str, Any]:
    """The seed request with input fields changed."""
    request = seed_request()
    request["input"].update(changes)
    return request


def create(backend: Backend, owner: str = "k", scenario: str | None = None, **changes: Any) -> str:
    """Create a task in the domain; its id."""
    return backend.create(owner, body(**changes), BASE_URL, scenario=scenario).task_id


def response_errors(view: TaskView) -> list[str]:
    """Schema violations of the GET answer for ``view`` (empty when valid)."""
    payload = json.loads(envelope_json(view))
    return [str(v) for v in default_registry().errors("response", payload)]


def impossible(task: dict[str, Any]) -> list[str]:
    """States the real service cannot show, beyond what the schema says."""
    status, usage = task["status"], task["meta"]["usage"]
    found = []
    if status == "completed" and not task["output"]["video"]:
        found.append("completed without a video")
    if status == "completed" and usage["consume"] != usage["frozen"]:
        found.append("completed but consume != frozen")
    if status != "completed" and usage["consume"]:
        found.append(f"consume > 0 on {status}")
    if status == "failed" and task["error"]["code"] == 0:
        found.append("failed without an error code")
    if status in {"pending", "processing", "completed"} and task["error"]["code"]:
        found.append(f"error code on {status}")
    return found


__all__ = ["KEY", "Sleeps", "body", "create", "impossible", "make", "open_client"]
