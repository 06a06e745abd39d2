"""Calling an ASGI app from synchronous code: httpx's ASGI transport on a private event loop.

:class:`PortalTransport` runs ``httpx.ASGITransport`` in an anyio blocking portal (a thread
with its own loop), so a plain ``httpx.Client`` and the suite can talk to an in-process app.
The app's exceptions become 500 answers (as a server would give), never raised here.
With ``lifespan=True`` the app's ASGI lifespan runs on the portal's loop for as long as the
transport is open, so background work a server would run (the fake's webhook deliveries)
happens in-process too.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal


class PortalTransport(httpx.BaseTransport):
    """A synchronous transport to an ASGI ``app`` (use as a context manager, or ``close``)."""

    def __init__(self, app: Any, lifespan: bool = False) -> None:
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._manager: AbstractContextManager[BlockingPortal] = start_blocking_portal()
        self._portal = self._manager.__enter__()
        self._lifespan: Lifespan | None = None
        if lifespan:
            self._lifespan = Lifespan(app)
            self._portal.call(self._lifespan.start)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` with the app (its body fully read)."""
        request.read()
        return self._portal.call(self._call, request)

    async def _call(self, request: httpx.Request) -> httpx.Response:
        response = await self._asgi.handle_async_request(request)
        body = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=body)

    def close(self) -> None:
        """Shut the lifespan down (if it runs), then stop the portal's thread."""
        if self._lifespan is not None:
            self._portal.call(self._lifespan.stop)
            self._lifespan = None
        self._manager.__exit__(None, None, None)


class Lifespan:
    """The ASGI lifespan protocol driven from outside a server: startup, then shutdown."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._to_app: asyncio.Queue[dict[str, Any]] | None = None
        self._from_app: asyncio.Queue[dict[str, Any]] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Send ``lifespan.startup`` and wait for the app's answer (failure raises)."""
        self._to_app, self._from_app = asyncio.Queue(), asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._task = asyncio.create_task(self.app(scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "lifespan.startup"})
        answer = await self._from_app.get()
        if answer["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"the app's lifespan startup failed: {answer.get('message')}")

    async def stop(self) -> None:
        """Send ``lifespan.shutdown`` and wait for the app to finish."""
        assert self._to_app is not None
        assert self._from_app is not None
        assert self._task is not None
        await self._to_app.put({"type": "lifespan.shutdown"})
        await self._from_app.get()
        await self._task


def asgi_client(
    app: Any, base_url: str = "https://api.piapi.ai", lifespan: bool = True
) -> httpx.Client:
    """A synchronous ``httpx.Client`` answered in-process by ``app``.

    The app's lifespan runs while the client is open (``lifespan=False`` to skip it): the
    fake then delivers webhooks in the background, as served.
    """
    return httpx.Client(transport=PortalTransport(app, lifespan), base_url=base_url)
