"""Time bounds of the served fake (issue #11): no socket, upload or answer can hold it forever.

Two layers, neither tied to one HTTP implementation:

- **uvicorn's configuration** (:func:`server_options`, merged by ``mock_server.server``):
  ``timeout_keep_alive`` (``--idle-timeout``) closes idle keep-alive connections;
  ``timeout_graceful_shutdown`` (``--shutdown-timeout``) bounds SIGTERM: after it, requests
  still running (a ``latency:600000`` fault, a stalled upload) are cancelled and the process
  exits; and the HTTP protocol class (h11 or httptools, whichever is chosen) is extended with a
  **header watchdog**: a connection that completes no request head within
  ``--header-timeout`` (a slow-loris, a socket opened and left) is closed. The watchdog reads
  only ``cycle``, ``transport`` and ``loop``, which both of uvicorn's protocols have.
- **an ASGI guard** (:class:`BodyDeadline`): each read of a request body must arrive within
  ``--body-timeout`` seconds, otherwise the request is answered ``408`` with PiAPI's envelope
  (a guess: PiAPI documents no timeout).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from mock_server.domain.errors import PiapiError
from mock_server.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_IDLE: Final = object()
#: Methods whose bodies no route reads (so they need no deadline).
BODILESS: Final = frozenset({"GET", "HEAD"})


class BodyTimeout(PiapiError):
    """A request body stalled (HTTP 408)."""

    status = 408


class BodyDeadline:
    """Pure ASGI: every ``receive`` of an unfinished request body is bounded in time."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.state = getattr(app, "state", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.seconds <= 0 or scope["method"] in BODILESS:
            await self.app(scope, receive, send)  # no handler reads a GET's body
            return
        if complete(receive):
            await self.app(scope, receive, send)  # uvicorn holds the whole body: no wait
            return
        done = False
        seconds = self.seconds

        async def bounded_receive() -> Message:
            nonlocal done
            if done:  # the body is complete: waiting for a disconnect is not a body read
                return await receive()
            ready = _ready_event(receive)
            if ready is not None and ready.is_set():
                message = await receive()  # already arrived: nothing to wait for, no timer
            else:
                message = await _within(receive, seconds)
            if message.get("type") != "http.request" or not message.get("more_body"):
                done = True
            return message

        await self.app(scope, bounded_receive, send)


def complete(receive: Receive) -> bool:
    """Whether uvicorn already holds the request's whole body (its h11 and httptools cycles
    set ``more_body`` to False once the last byte is in): no read of it can stall."""
    return getattr(getattr(receive, "__self__", None), "more_body", True) is False


def _ready_event(receive: Receive) -> asyncio.Event | None:
    """uvicorn's "a message is waiting" event behind ``receive``, if it is uvicorn's (its
    h11 and httptools cycles both have ``message_event``); None: always use the timer."""
    event = getattr(getattr(receive, "__self__", None), "message_event", None)
    return event if isinstance(event, asyncio.Event) else None


async def _within(receive: Receive, seconds: float) -> Message:
    """``await receive()``, or :class:`BodyTimeout` after ``seconds`` (one timer handle)."""
    task = asyncio.current_task()
    assert task is not None
    expired: list[bool] = []

    def expire() -> None:
        expired.append(True)
        task.cancel()

    handle = asyncio.get_running_loop().call_later(seconds, expire)
    try:
        return await receive()
    except asyncio.CancelledError:
        if not expired or task.uncancel() > 0:
            raise  # somebody else's cancellation (a shutdown): let it through
        raise BodyTimeout(
            f"request timeout: the request body did not arrive within {seconds:g} s "
            "(--body-timeout)"
        ) from None
    finally:
        handle.cancel()


def wrap(app: Any, settings: Settings) -> Any:
    """``app`` behind :class:`BodyDeadline` (and the header watchdog's period set)."""
    _HEADER_TIMEOUT[0] = settings.header_timeout
    return BodyDeadline(app, settings.body_timeout)


#: The watchdog's period is read from here when a connection opens; ``wrap`` (called by
#: ``create_asgi`` in every serving process, worker processes included) sets it.
_HEADER_TIMEOUT: list[float] = [10.0]
#: uvicorn's protocols and the names of their guarded versions in this module.
_BASES: Final = {
    "GuardedH11Protocol": "uvicorn.protocols.http.h11_impl:H11Protocol",
    "GuardedHttpToolsProtocol": "uvicorn.protocols.http.httptools_impl:HttpToolsProtocol",
}
_NAMES: Final = {"h11": "GuardedH11Protocol", "httptools": "GuardedHttpToolsProtocol"}


def guarded_protocol(base: type[asyncio.Protocol]) -> type[Any]:
    """``base`` (uvicorn's h11 or httptools protocol) with the header watchdog.

    Every ``header_timeout / 2`` seconds a connection checks whether a new request has begun
    since the last check; one that stayed idle (no request, or only a finished one, and no new
    head completed) for a whole period is closed. A request in progress is left alone (its
    body has :class:`BodyDeadline`, its answer the graceful-shutdown bound).
    """

    class Guarded(base):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._piapi_seen: object = _IDLE
            self._piapi_tick = max(0.05, _HEADER_TIMEOUT[0] / 2)
            if _HEADER_TIMEOUT[0] > 0:
                self.loop.call_later(self._piapi_tick, self._piapi_watch)

        def _piapi_watch(self) -> None:
            transport = self.transport
            if transport is None or transport.is_closing():
                return
            cycle = self.cycle
            idle = cycle is None or cycle.response_complete
            if idle and cycle is self._piapi_seen:
                transport.close()  # no request head completed during a whole period
                return
            self._piapi_seen = cycle if idle else _IDLE
            self.loop.call_later(self._piapi_tick, self._piapi_watch)

    name = "Guarded" + base.__name__
    Guarded.__name__ = Guarded.__qualname__ = name
    Guarded.__module__ = __name__
    return Guarded


def __getattr__(name: str) -> Any:
    """``GuardedH11Protocol`` / ``GuardedHttpToolsProtocol``, built on first use (so that
    uvicorn can import them by name, in worker processes too)."""
    if name not in _BASES:
        raise AttributeError(name)
    from uvicorn.importer import import_from_string

    built = guarded_protocol(import_from_string(_BASES[name]))
    globals()[name] = built
    return built


def server_options(settings: Settings, http: str) -> dict[str, Any]:
    """uvicorn ``Config`` keywords that bound time: keep-alive, graceful shutdown, and the
    ``http`` protocol (``h11``/``httptools``) with the header watchdog, by import path."""
    _HEADER_TIMEOUT[0] = settings.header_timeout
    guarded = _NAMES.get(http)
    return {
        "timeout_keep_alive": settings.idle_timeout or 3600,
        "timeout_graceful_shutdown": settings.shutdown_timeout or None,
        "http": f"{__name__}:{guarded}" if guarded else http,
    }
