"""Fixtures of the contract kit's tests: the fake in-process, behind a sync httpx client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from contract_tests.asgi import asgi_client
from contract_tests.endpoint import Endpoint, Retry
from mock_server.domain.backend import manual_backend
from mock_server.settings import Settings
from mock_server.web.app import create_asgi

Connect = Callable[..., Endpoint]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """``connect(wrap=None, **settings)``: an :class:`Endpoint` to a fresh in-process fake.

    ``wrap`` takes the fake's ASGI app and returns another (a deliberately broken server).
    Retries after a 429 never wait: the endpoint's ``retry.sleep`` only records the waits.
    """
    clients: list[httpx.Client] = []

    def make(wrap: Callable[[Any], Any] | None = None, **changes: Any) -> Endpoint:
        backend, _clock = manual_backend(Settings().replace(**changes))
        app = create_asgi(backend=backend)
        client = asgi_client(wrap(app) if wrap else app)
        clients.append(client)
        waits: list[float] = []
        return Endpoint(client, "contract-key", retry=Retry(sleep=waits.append))

    yield make
    for client in clients:
        client.close()
