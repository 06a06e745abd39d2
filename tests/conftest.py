"""Shared fixtures of the project's own tests: a backend on a manual clock and an ASGI client."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server.domain.backend import Backend, manual_backend
from mock_server.domain.clock import ManualClock
from mock_server.settings import Settings
from mock_server.web.app import create_asgi

# Schemathesis (a test extra, run as a CLI by tests/hardening/test_schemathesis.py) installs a
# pytest plugin that changes Hypothesis' failure reports; keep it out of nested pytest runs
# (pytester) as pyproject's addopts keeps it out of this one.
if "no:schemathesis" not in os.environ.get("PYTEST_ADDOPTS", ""):
    os.environ["PYTEST_ADDOPTS"] = (
        os.environ.get("PYTEST_ADDOPTS", "") + " -p no:schemathesis"
    ).strip()

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "fixtures" / "examples"
BASE_URL = "https://api.piapi.ai"
KEY = {"x-api-key": "test-key"}


def seed_request() -> dict[str, Any]:
    """The user's example request body (a fresh copy)."""
    body: dict[str, Any] = json.loads((EXAMPLES / "seed-request.json").read_text())
    return body


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings() -> Settings:
    """Override in a test module to change the fake's settings."""
    return Settings()


@pytest.fixture
def backend_and_clock(settings: Settings) -> tuple[Backend, ManualClock]:
    return manual_backend(settings)


@pytest.fixture
def backend(backend_and_clock: tuple[Backend, ManualClock]) -> Backend:
    return backend_and_clock[0]


@pytest.fixture
def clock(backend_and_clock: tuple[Backend, ManualClock]) -> ManualClock:
    return backend_and_clock[1]


@pytest.fixture
async def client(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client wired to the fake in-process (no socket), base URL api.piapi.ai."""
    app = create_asgi(backend=backend)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http
