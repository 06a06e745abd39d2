"""The fake on a real loopback port: uvicorn in a thread, for clients respx cannot reach.

:class:`ServerThread` runs ``create_asgi`` over a backend on a manual clock (tests drive time,
nobody sleeps) on a socket bound to ``127.0.0.1:0`` before uvicorn starts, so the port is free
and known without a race (each xdist worker gets its own). :class:`PiapiServer` is the test's
handle: the base URL and the control methods, through the ``/_mock`` control plane.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

import httpx
import uvicorn

from contract_tests import idle
from contract_tests.target import DEFAULT_API_KEY, Target
from mock_server.domain.backend import manual_backend
from mock_server.settings import Settings
from mock_server.web.app import create_asgi

T = TypeVar("T")
START_TIMEOUT: Final = 10.0


class _Server(uvicorn.Server):
    """uvicorn that reports its loop and readiness to the starting thread."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets)
        self.ready.set()


class ServerThread:
    """One uvicorn server over a fresh backend, until :meth:`close`."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.backend, self.clock = manual_backend(self.settings)
        app = create_asgi(backend=self.backend)
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when the
        # listener's proto says TCP; without it each keep-alive response waits ~40 ms (Nagle).
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, log_config=None, log_level="warning", access_log=False, lifespan="on", ws="none"
        )
        self._server = _Server(config)
        self._thread = threading.Thread(target=self._run, name="piapi-server", daemon=True)
        self._thread.start()
        if not self._server.ready.wait(START_TIMEOUT) or self._server.loop is None:
            self.close()
            raise RuntimeError(f"piapi-mock server did not start within {START_TIMEOUT}s")

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def call(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``await func(*args)`` on the server's event loop (thread-safe access to state)."""
        assert self._server.loop is not None

        async def run() -> T:
            return await func(*args)

        future = asyncio.run_coroutine_threadsafe(run(), self._server.loop)
        return future.result(START_TIMEOUT)

    def close(self) -> None:
        """Stop the server and join its thread."""
        self._server.should_exit = True
        self._thread.join(START_TIMEOUT)
        self._socket.close()


class PiapiServer(Target):
    """A test's handle on a :class:`ServerThread`: ``base_url`` and control-plane methods."""

    live = False

    def __init__(self, thread: ServerThread) -> None:
        keys = thread.settings.api_keys
        super().__init__(thread.base_url, api_key=keys[0] if keys else DEFAULT_API_KEY)
        self.thread = thread
        token = thread.settings.control_token
        control = {b"x-mock-control-token": token.encode("utf-8")} if token else {}
        self._http = httpx.Client(base_url=thread.base_url, timeout=START_TIMEOUT, headers=control)

    def close(self) -> None:
        """Close the control-plane client (the server keeps running)."""
        self._http.close()

    def control(self, method: str, path: str, json: Any = None) -> Any:
        response = self._http.request(method, path, json=json)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: HTTP {response.status_code}: {response.text}")
        return response.json()

    def advance(self, seconds: float) -> None:
        """POST ``/_mock/clock/advance``, then attempt every webhook due by then.

        Unlike the in-process fixture, time jumps in one step: webhooks that fell due on the
        way go out at the new instant (in order), and a retry scheduled by one of them comes
        later. :meth:`run_until_idle` stops at every instant, as in-process.
        """
        self.control("POST", "/_mock/clock/advance", {"seconds": seconds})
        self.thread.call(idle.deliver_due, self.thread.backend)

    def run_until_idle(self) -> None:
        """Like the in-process fixture's, run on the server's loop (no control route for it)."""
        self.thread.call(idle.settle, self.thread.backend)

    def tasks(self, status: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params: dict[str, str] = {"status": status} if status else {}
        while True:  # the listing is paged (issue #11): follow ``next`` to the end
            query = "&".join(f"{k}={v}" for k, v in params.items())
            page = self.control("GET", "/_mock/tasks" + (f"?{query}" if query else ""))
            found += [t["task"] for t in page["tasks"]]
            if not page.get("next"):
                return found
            params["after"] = str(page["next"])

    def task(self, task_id: str) -> dict[str, Any]:
        response = self._http.get(f"/_mock/tasks/{task_id}")
        if response.status_code == 404:
            raise KeyError(task_id)
        response.raise_for_status()
        task: dict[str, Any] = response.json()["task"]
        return task

    def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = self.control("GET", "/_mock/journal")["calls"]
        return calls

    def webhook_deliveries(self, task_id: str | None = None) -> list[dict[str, Any]]:
        path = "/_mock/webhooks" + (f"?task_id={task_id}" if task_id else "")
        attempts: list[dict[str, Any]] = self.control("GET", path)["attempts"]
        return attempts

    def reset(self, seed: int | None = None) -> None:
        self.control("POST", "/_mock/reset", {} if seed is None else {"seed": seed})
