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

Under ``serve`` the front also takes over uvicorn's ``ProxyHeadersMiddleware`` (one more
frame and header scan per request; :func:`mock_server.server.serve` switches uvicorn's off
and hands its trusted addresses over, :meth:`Front.take_proxy_headers`): a request carrying
``X-Forwarded-For`` or ``X-Forwarded-Proto``, and every request the shortcut does not take,
goes through that same middleware class in front of the stack, so the scheme and client a
proxy names are read exactly as before; a hot request without either header is one the
middleware leaves untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from mock_server import limits
from mock_server.web import faults, headers
from mock_server.web.control_guard import ControlGuard
from mock_server.web.fastpath import FastPath

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_FAULT: Final = headers.FAULT
_KEY: Final = headers.API_KEY
#: The headers uvicorn's proxy-header middleware reads.
FORWARDED: Final = frozenset({b"x-forwarded-for", b"x-forwarded-proto"})


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
        #: Where a request the shortcut does not take goes: the stack, or the proxy-header
        #: middleware in front of it (:meth:`take_proxy_headers`).
        self.outer: ASGIApp = guard
        self.forwarded = False

    def take_proxy_headers(self, trusted_hosts: list[str] | str) -> None:
        """Do uvicorn's proxy-header work here (``serve`` then turns uvicorn's off)."""
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        stack: Any = self.app  # uvicorn types ASGI apps by its own TypedDicts
        self.outer = ProxyHeadersMiddleware(stack, trusted_hosts=trusted_hosts)  # type: ignore[assignment]
        self.forwarded = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = self.fast.route(scope)
            if found is not None and self.passes(scope, receive):
                await self.fast.serve(found[0], found[1], scope, receive, send)
                return
        await self.outer(scope, receive, send)

    def passes(self, scope: Scope, receive: Receive) -> bool:
        """Whether every layer would pass this (hot, plain-path) request on untouched; the
        gate's one side effect (noting the address the request arrived on) is done here."""
        self.guard.note(scope)
        book = self.book
        try:
            armed = book.armed
        except Exception:  # a shared store's outage: the fault layer answers it
            return False
        if armed or not self._plain(scope["headers"], book.headers):
            return False
        return self.seconds <= 0 or scope["method"] in limits.BODILESS or limits.complete(receive)

    def _plain(self, raw: list[tuple[bytes, bytes]], fault_headers: bool) -> bool:
        """One scan: no ``X-Mock-Fault`` and at most one key (``faults.plain_headers``, when
        the fault header is honoured), and no header the proxy middleware reads (when this
        layer does its work)."""
        forwarded = self.forwarded
        keys = 0
        for name, _ in raw:
            if name == _KEY:
                keys += 1
            elif name == _FAULT:
                if fault_headers:
                    return False
            elif forwarded and name in FORWARDED:
                return False
        return keys < 2 or not fault_headers


def wrap(
    guard: ControlGuard, fault_layer: faults.FaultLayer, deadline: limits.BodyDeadline
) -> Front | ControlGuard:
    """``guard`` behind a :class:`Front`, when ``deadline`` wraps a fast path (else ``guard``)."""
    fast = deadline.app
    if not isinstance(fast, FastPath) or (fast.create is None and fast.get is None):
        return guard
    return Front(guard, fault_layer, deadline, fast)
