"""Strict mode, over time: how clients poll, recorded beside the refused requests.

With ``--strict`` the fake also holds every client to :mod:`mock_server.polling_rules`
(polling a finished task, polling faster than the policy's interval, retrying a 429 before its
``Retry-After``, polling one task without end) and records each broken rule at
``GET /_mock/violations`` like a refused request (``violations: [{"pointer": "", "rule",
"message"}]``). Answers are unchanged: a server cannot stop a runaway client, only report it.

Time is the backend's virtual clock plus the wall clock, so a client that sleeps for real and
a test that advances the fake's clock are both judged in seconds that passed for them. A pure
ASGI layer, present only in strict mode.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mock_server.domain.backend import Backend
from mock_server.domain.clock import NS
from mock_server.domain.observers import BackendObserver
from mock_server.domain.render import rfc3339
from mock_server.polling_rules import PollWatch
from mock_server.web.control_violations import violation_log

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


class _Watches(BackendObserver):
    """The backend's poll watch, forgotten when the backend resets."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.watch = self._new()

    def _new(self) -> PollWatch:
        clock = self.backend.clock
        return PollWatch(clock=lambda: clock.now() / NS + time.monotonic(), stop=False)

    def reset(self) -> None:
        """The backend was reset: start judging afresh."""
        self.watch = self._new()


def wrap(app: ASGIApp, backend: Backend) -> ASGIApp:
    """``app`` with the polling rules recorded in strict mode (``app`` itself otherwise)."""
    if not backend.settings.strict:
        return app
    watches = _Watches(backend)
    backend.observers.append(watches)

    async def strict(scope: Scope, receive: Any, send: Any) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith("/api/"):
            await app(scope, receive, send)
            return
        watch, method = watches.watch, str(scope["method"])
        before = len(watch.found)
        watch.request(method, path)
        answer: dict[str, Any] = {"status": 0, "retry_after": "", "body": b""}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = int(message["status"])
                for name, value in message.get("headers", []):
                    if name.lower() == b"retry-after":
                        answer["retry_after"] = value.decode("latin-1")
            elif message["type"] == "http.response.body" and method == "GET":
                answer["body"] += message.get("body", b"")
            await send(message)

        await app(scope, receive, capture)
        status = _task_status(answer["body"]) if answer["status"] == 200 else ""
        watch.answered(method, path, answer["status"], status, answer["retry_after"])
        for found in watch.found[before:]:
            violation_log(backend).add(
                {
                    "at": rfc3339(backend.clock.now()),
                    "method": found.method,
                    "path": found.path,
                    "status": answer["status"],
                    "message": found.message,
                    "violations": [{"pointer": "", "rule": found.rule, "message": found.message}],
                }
            )

    strict.state = getattr(app, "state", None)  # type: ignore[attr-defined]  # serve reads it
    return strict


def _task_status(body: bytes) -> str:
    try:
        data = json.loads(body).get("data")
    except (ValueError, AttributeError):
        return ""
    return str(data.get("status", "")) if isinstance(data, dict) else ""
