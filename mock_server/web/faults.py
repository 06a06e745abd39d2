"""HTTP fault injection (429/5xx, latency, dropped connections, truncated bodies).

A pure ASGI wrapper around the app. With no rule and no rate set it costs one check per
request, plus a scan of the header names while ``X-Mock-Fault`` is honoured. Latency is the
only real wait; ``sleep`` is injectable so tests observe it without waiting.

Dropping needs the server's transport: under uvicorn the socket is aborted (the client sees
the connection close with no answer). Where no transport is reachable (e.g. httpx's
``ASGITransport``), :class:`ConnectionDropped` is raised instead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from mock_server.domain.backend import Backend
from mock_server.domain.errors import PiapiError
from mock_server.domain.faults import MESSAGES, Action
from mock_server.domain.journal import JournalEntry
from mock_server.stores import outage
from mock_server.web import headers

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]

_HEADER: Final = headers.FAULT
_KEY: Final = headers.API_KEY
_TASK: Final = "/api/v1/task"


class ConnectionDropped(ConnectionError):
    """A simulated dropped connection where the transport cannot be reached."""


def operation(method: str, path: str) -> str | None:
    """Which faked API call a request is (``create``, ``get``, ``cancel``, ``account``)."""
    if path == _TASK:
        return "create" if method == "POST" else None
    if path.startswith(_TASK + "/"):
        rest = path[len(_TASK) + 1 :]
        if "/" not in rest and rest:
            return {"GET": "get", "DELETE": "cancel"}.get(method)
        if rest.endswith("/cancel") and rest.count("/") == 1 and method == "POST":
            return "cancel"
        return None
    if path == "/account/info" and method == "GET":
        return "account"
    return None


def plain_headers(raw: list[tuple[bytes, bytes]]) -> bool:
    """No ``X-Mock-Fault`` and at most one ``x-api-key`` (what :func:`_headers` would read
    as "no fault header", without decoding anything: the hot path)."""
    keys = 0
    for name, _ in raw:
        if name == _HEADER:
            return False
        if name == _KEY:
            keys += 1
    return keys < 2


def _headers(scope: Scope) -> tuple[str | None, str | None]:
    """``X-Mock-Fault`` and ``x-api-key``, read by the same rule as auth (400 if repeated)."""
    found = headers.read(scope["headers"], _HEADER, _KEY)
    return found.get(_HEADER), found.get(_KEY)


class FaultLayer:
    """The ASGI app that decides and plays faults in front of ``app``."""

    def __init__(self, app: ASGIApp, backend: Backend, sleep: Sleep = asyncio.sleep) -> None:
        self.app = app
        self.backend = backend
        self.sleep = sleep
        self.state = getattr(app, "state", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        book = self.backend.faults
        try:
            armed = book.armed  # on a shared store: the rules' copy, re-read when stale
        except Exception as exc:
            await _outage(send, exc)
            return
        if scope["type"] != "http" or not (armed or book.headers):
            await self.app(scope, receive, send)
            return
        if not armed and plain_headers(scope["headers"]):
            await self.app(scope, receive, send)  # no X-Mock-Fault, one key at most: no fault
            return
        op = operation(scope["method"], scope["path"])
        try:
            header, key = _headers(scope) if op else (None, None)
        except PiapiError as exc:
            await _envelope(send, exc.status, exc.message)
            return
        if op is None or (header is None and not armed):
            await self.app(scope, receive, send)
            return
        try:
            action = book.decide(op, key, header, self.backend.clock.now())
        except PiapiError as exc:
            await _envelope(send, exc.status, exc.message)
            return
        except Exception as exc:  # a shared store's counter could not be counted
            await _outage(send, exc)
            return
        if action is None:
            await self.app(scope, receive, send)
            return
        if not action.fault.passes:  # the app never sees it: journal it here
            status = action.fault.status or 0
            entry = JournalEntry(
                self.backend.clock.now(),
                scope["method"],
                scope["path"],
                status,
                "",
                f"X-Mock-Fault {action.fault.text} ({action.source})",
            )
            self.backend.journal.record(entry)
        await self.play(action, scope, receive, send)

    async def play(self, action: Action, scope: Scope, receive: Receive, send: Send) -> None:
        """Wait, then answer with the fault (or pass to the app, cut short if truncating)."""
        fault = action.fault
        if action.latency_s:
            await self.sleep(action.latency_s)
        if fault.status is not None:
            await _envelope(send, fault.status, MESSAGES[fault.status])
        elif fault.drop:
            await _drop(send)
        elif fault.truncate is not None:
            await _truncated(self.app, scope, receive, send, fault.truncate)
        else:
            await self.app(scope, receive, send)


async def _outage(send: Send, exc: Exception) -> None:
    """The app's own answer to a store outage (503), for one met before the app runs."""
    if not outage(exc):
        raise exc
    await _envelope(send, 503, f"store unavailable: {type(exc).__name__}: {exc}")


async def _envelope(send: Send, status: int, message: str) -> None:
    body = json.dumps({"code": status, "data": None, "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if status == 429:
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _truncated(app: ASGIApp, scope: Scope, receive: Receive, send: Send, keep: int) -> None:
    """Run the app, then send its headers (with the full length) and part of its body.

    Over a real server the connection is then closed; in-process (no transport) the
    response just ends short of its ``content-length``.
    """
    start: Message = {}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    await app(scope, receive, capture)
    body = b"".join(chunks)
    cut = len(body) // 2 if keep < 0 else min(keep, max(0, len(body) - 1))
    transport = _transport(send)
    await send(start)
    await send({"type": "http.response.body", "body": body[:cut], "more_body": bool(transport)})
    if transport is not None:
        await _close(transport, flush=True)


def _transport(send: Send) -> Any:
    """The server's transport behind ``send`` (uvicorn), or None."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    return transport if hasattr(transport, "abort") else None


async def _drop(send: Send) -> None:
    """Close the client's connection without an answer: abort the transport, or raise."""
    transport = _transport(send)
    if transport is None:
        raise ConnectionDropped("simulated dropped connection (X-Mock-Fault: drop)")
    await _close(transport, flush=False)


async def _close(transport: Any, flush: bool) -> None:
    for _ in range(200):  # bounded: let the kernel take what was sent
        if not flush or not transport.get_write_buffer_size():
            break
        await asyncio.sleep(0.001)
    transport.abort()
    await asyncio.sleep(0)  # let the server see the disconnect before the app returns
    await asyncio.sleep(0)


def wrap(app: Any, backend: Backend, sleep: Sleep = asyncio.sleep) -> Any:
    """``app`` wrapped with the fault layer; ``sleep`` plays latency (swap it in tests)."""
    return FaultLayer(app, backend, sleep)
