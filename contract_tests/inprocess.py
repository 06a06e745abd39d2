"""The fake in-process: httpx requests to the base URL are answered by the ASGI app via respx.

Async httpx clients are served on the caller's event loop. Sync clients cannot await, so their
requests run the app on a private event loop in a thread (an anyio blocking portal, shared by
the session). Loopback hosts (a local webhook receiver, ``piapi_server``) pass through; any
other unmatched host is left to the next respx router (a test's own ``respx_mock``), or fails
as "not mocked": the fake never reaches the internet.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Coroutine
from contextlib import ExitStack
from contextvars import ContextVar
from typing import Any, Final, TypeVar

import httpx
import respx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from respx.models import ResolvedRoute

from contract_tests import idle
from contract_tests.target import DEFAULT_API_KEY, Target
from mock_server.domain.backend import manual_backend
from mock_server.domain.journal import Journal
from mock_server.domain.render import task_dict
from mock_server.settings import Settings
from mock_server.web.app import create_asgi
from mock_server.webhooks import Dispatcher, dispatcher_of

T = TypeVar("T")
LOOPBACK: Final = ("127.0.0.1", "localhost", "::1")
_IN_ASYNC: ContextVar[bool] = ContextVar("piapi_mock_in_async", default=False)


class PrivateLoop:
    """Where sync callers run the fake's coroutines, started on first use, kept until closed.

    A thread with no running event loop (a plain sync test) uses a private loop in that very
    thread: no thread hop, so a request costs what the app costs. A thread whose loop is busy
    (a sync client inside an async test) cannot block on its own loop, so it uses an anyio
    blocking portal: a private loop in a thread of its own.
    """

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._runner: asyncio.Runner | None = None
        self._portal: BlockingPortal | None = None
        # Re-entrant: a coroutine running on the private loop may reach a sync caller again,
        # which then finds a running loop and takes the portal.
        self._lock = threading.RLock()

    def call(self, func: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        """Run ``await func(*args)`` on a private loop and return its result."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            with self._lock:
                if self._runner is None:
                    self._runner = self._stack.enter_context(asyncio.Runner())
                result: T = self._runner.run(func(*args))
                return result
        with self._lock:
            if self._portal is None:
                self._portal = self._stack.enter_context(start_blocking_portal())
            portal = self._portal
        answer: T = portal.call(func, *args)
        return answer

    def close(self) -> None:
        """Stop the loops (and the portal's thread)."""
        with self._lock:
            self._stack.close()
            self._runner = self._portal = None


class _Router(respx.MockRouter):
    """Marks async resolution so one side effect can serve sync and async clients."""

    async def aresolve(self, request: httpx.Request) -> ResolvedRoute:
        token = _IN_ASYNC.set(True)
        try:
            return await super().aresolve(request)
        finally:
            _IN_ASYNC.reset(token)


class InProcessMock(Target):
    """The fake PiAPI for one test, in this process, on a manual clock.

    ``backend`` holds all state (tasks, journal, scenarios, webhook dispatcher), ``clock`` is
    its :class:`~mock_server.domain.clock.ManualClock`, ``router`` the respx router (its
    ``calls`` are the raw httpx calls), ``app`` the ASGI app.
    """

    live = False

    def __init__(self, settings: Settings, base_url: str, portal: PrivateLoop) -> None:
        super().__init__(base_url, api_key=(settings.api_keys or (DEFAULT_API_KEY,))[0])
        self.settings = settings
        self.backend, self.clock = manual_backend(settings)
        self.app = create_asgi(backend=self.backend)
        self._transport = httpx.ASGITransport(app=self.app)
        self._portal = portal
        self.router = _Router(assert_all_called=False)
        origin = re.escape(self.base_url)
        self.router.route(url__regex=rf"^{origin}(?:[/?#]|$)").mock(side_effect=self._answer)
        self.router.route(host__in=LOOPBACK).pass_through()
        #: Who sees every request before it is answered and its answer after (the
        #: ``piapi_contract`` fixture, when a test uses both): ``before(request)``,
        #: ``after(request, response)``.
        self.watchers: list[Any] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> InProcessMock:
        """Start intercepting httpx requests."""
        self.router.start()
        return self

    def stop(self) -> None:
        """Stop intercepting."""
        self.router.stop(quiet=True)

    def __enter__(self) -> InProcessMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answering ---------------------------------------------------------------------------

    def _answer(self, request: httpx.Request) -> Any:
        if _IN_ASYNC.get():
            return self._asgi(request)  # watchers see it on the caller's loop
        request.read()
        for watcher in self.watchers:
            watcher.before(request)
        return self._portal.call(self._asgi, request)

    def answer_plain(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Answer one request from another client (``requests``) through the app."""
        request = httpx.Request(method, url, headers=headers, content=body)
        response = self._portal.call(self._asgi, request)
        return response.status_code, list(response.headers.multi_items()), response.content

    async def _asgi(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        if _IN_ASYNC.get():  # an async client: this runs on its loop (sync: already seen)
            for watcher in self.watchers:
                watcher.before(request)
        response = await self._transport.handle_async_request(request)
        body = await response.aread()
        answer = httpx.Response(response.status_code, headers=response.headers, content=body)
        for watcher in self.watchers:
            watcher.after(request, answer)
        return answer

    # -- control -----------------------------------------------------------------------------

    @property
    def journal(self) -> Journal:
        """The request journal (``calls``, ``last``, ``call_count``)."""
        return self.backend.journal

    def advance(self, seconds: float) -> None:
        self._portal.call(idle.advance, self.backend, seconds)

    def run_until_idle(self) -> None:
        self._portal.call(idle.settle, self.backend)

    def tasks(self, status: str | None = None) -> list[dict[str, Any]]:
        found = [task_dict(self.backend.view(r)) for r in self.backend.records()]
        return [t for t in found if status is None or t["status"] == status]

    def task(self, task_id: str) -> dict[str, Any]:
        record = self.backend.store.get(task_id)
        if record is None:
            raise KeyError(task_id)
        return task_dict(self.backend.view(record))

    def calls(self) -> list[dict[str, Any]]:
        return [entry.as_dict() for entry in self.backend.journal]

    def reset(self, seed: int | None = None) -> None:
        self.backend.reset(seed)

    @property
    def webhooks(self) -> Dispatcher:
        """The webhook dispatcher (its ``log`` has every attempt)."""
        return dispatcher_of(self.backend)

    def webhook_deliveries(self, task_id: str | None = None) -> list[dict[str, Any]]:
        attempts = self.webhooks.log
        return [a.as_dict() for a in attempts if task_id is None or a.task_id == task_id]

    def control(self, method: str, path: str, json: Any = None) -> Any:
        """Through the ASGI app, like any request to the base URL."""
        token = self.settings.control_token
        control = {b"x-mock-control-token": token.encode("utf-8")} if token else {}
        with httpx.Client(base_url=self.base_url, headers=control) as http:
            response = http.request(method, path, json=json)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: HTTP {response.status_code}: {response.text}")
        return response.json()
