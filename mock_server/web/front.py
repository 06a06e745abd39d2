"""The outermost ASGI layer: create and get in one frame when no layer has anything to do.

``create_asgi`` stacks pure-ASGI layers in front of the app: the control gate, the fault layer,
the body deadline and the fast path (``fastpath.py``). For the two hot requests (``POST
/api/v1/task``, ``GET /api/v1/task/{id}``) each of the first three usually only looks and
passes the request on, one coroutine frame each. :class:`Front` asks every layer's own rule
first, and when all of them would pass (the gate: not a ``/_mock`` path; faults: none armed
and no ``X-Mock-Fault`` header, at most one key; the deadline: the whole body is already in,
or a GET) it hands the request straight to the fast path's :meth:`FastPath.serve`; every other
request, and every hot one a layer would act on, goes down the stack unchanged. Nothing a
client sees differs (``tests/web/test_front.py`` replays the fast-path requests through both).
Not built in strict mode (the polling layer records every request).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mock_server import limits
from mock_server.web import faults
from mock_server.web.control_guard import ControlGuard
from mock_server.web.fastpath import FastPath

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Front:
    """``guard`` (the whole stack) with a shortcut to ``fast`` for requests no layer acts on."""

    def __init__(
        self,
        guard: ControlGuard,
        fault_layer: faults.FaultLayer,
        deadline: limits.BodyDeadline,
        fast: FastPath,
    ) -> None:
        self.app = guard
        self.state = guard.state
        self.guard = guard
        self.book = fault_layer.backend.faults
        self.seconds = deadline.seconds
        self.fast = fast

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = self.fast.route(scope)
            if found is not None and self.passes(scope, receive):
                await self.fast.serve(found[0], found[1], scope, receive, send)
                return
        await self.app(scope, receive, send)

    def passes(self, scope: Scope, receive: Receive) -> bool:
        """Whether every layer would pass this (hot, plain-path) request on untouched; the
        gate's one side effect (noting the address the request arrived on) is done here."""
        self.guard.note(scope)
        book = self.book
        try:
            armed = book.armed
        except Exception:  # a shared store's outage: the fault layer answers it
            return False
        if armed or (book.headers and not faults.plain_headers(scope["headers"])):
            return False
        return self.seconds <= 0 or scope["method"] in limits.BODILESS or limits.complete(receive)


def wrap(
    guard: ControlGuard, fault_layer: faults.FaultLayer, deadline: limits.BodyDeadline
) -> Front | ControlGuard:
    """``guard`` behind a :class:`Front`, when ``deadline`` wraps a fast path (else ``guard``)."""
    fast = deadline.app
    if not isinstance(fast, FastPath) or (fast.create is None and fast.get is None):
        return guard
    return Front(guard, fault_layer, deadline, fast)
