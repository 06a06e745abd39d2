"""Two backends on one shared store (as two processes would be), and a client for each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager

import httpx

from mock_server.domain.backend import Backend
from mock_server.settings import Settings
from tests.scenarios.helpers import open_client

Clients = tuple[httpx.AsyncClient, httpx.AsyncClient]


@contextmanager
def two_backends(settings: Settings) -> Iterator[tuple[Backend, Backend]]:
    """Two backends over ``settings.store``; their store connections closed afterwards."""
    a, b = Backend(settings), Backend(settings)
    try:
        yield a, b
    finally:
        a.store.close()
        b.store.close()


@asynccontextmanager
async def two_clients(backends: tuple[Backend, Backend]) -> AsyncIterator[Clients]:
    """An in-process client on each backend."""
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(open_client(backends[0]))
        b = await stack.enter_async_context(open_client(backends[1]))
        yield a, b
