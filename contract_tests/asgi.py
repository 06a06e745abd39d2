"""Calling an ASGI app from synchronous code: httpx's ASGI transport on a private event loop.

:class:`PortalTransport` runs ``httpx.ASGITransport`` in an anyio blocking portal (a thread
with its own loop), so a plain ``httpx.Client`` and the suite can talk to an in-process app.
The app's exceptions become 500 answers (as a server would give), never raised here.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal


class PortalTransport(httpx.BaseTransport):
    """A synchronous transport to an ASGI ``app`` (use as a context manager, or ``close``)."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._manager: AbstractContextManager[BlockingPortal] = start_blocking_portal()
        self._portal = self._manager.__enter__()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` with the app (its body fully read)."""
        request.read()
        return self._portal.call(self._call, request)

    async def _call(self, request: httpx.Request) -> httpx.Response:
        response = await self._asgi.handle_async_request(request)
        body = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=body)

    def close(self) -> None:
        """Stop the portal's thread."""
        self._manager.__exit__(None, None, None)


def asgi_client(app: Any, base_url: str = "https://api.piapi.ai") -> httpx.Client:
    """A synchronous ``httpx.Client`` answered in-process by ``app``."""
    return httpx.Client(transport=PortalTransport(app), base_url=base_url)
