"""A pure-ASGI fast path for the two hot routes: ``POST /api/v1/task``, ``GET /api/v1/task/{id}``.

Starlette reaches a handler through two middlewares, two exception wrappers and a scan of the
route table (regex per route), about a third of a bare request's cost. :class:`FastPath`
sits in front of the Starlette app and, for exactly those two requests, calls the **same
endpoint functions** the router would (found in the app's own route table at start-up, so
the handlers in ``api.py`` stay the one statement of behaviour) with the same ``Request``,
the same exception handlers and the same response sending. Everything else, and every
request when the app is not the plain shape this path reproduces (user middleware, a body
limit, debug mode, an earlier route that could take the path, a sync endpoint), goes to the
Starlette app unchanged. ``tests/web/test_fastpath.py`` replays the same requests through
both and compares every message sent (status, headers, body bytes), the journal and the
violation log.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from mock_server.web.responses import JSONBytes

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, Exception], Awaitable[Response]]

TASK: Final = "/api/v1/task"
TASK_BY_ID: Final = TASK + "/{task_id}"
_PREFIX: Final = TASK + "/"
_PREFIX_LEN: Final = len(_PREFIX)


def _route_endpoint(app: Starlette, method: str, path: str) -> Endpoint | None:
    """The endpoint Starlette routes ``method path`` to, if this path can take it safely.

    The first route that serves ``method`` on ``path`` must be a plain :class:`Route` with an
    async endpoint, and no earlier route may claim a path under ``/api/v1/task`` for that
    method (or be anything but a plain route), so that the router could not pick another.
    """
    for route in app.routes:
        if not isinstance(route, Route):
            return None
        methods = route.methods or set()
        if method not in methods:
            continue
        if route.path == path:
            endpoint = route.endpoint
            return endpoint if inspect.iscoroutinefunction(endpoint) else None
        if route.path.startswith(TASK):
            return None
    return None


def _lookup(handlers: Mapping[Any, Handler], exc: Exception) -> Handler | None:
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


class FastPath:
    """The ASGI app in front of ``app`` that serves create and get without the router."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.state = app.state
        self.handlers: dict[Any, Handler] = {}
        self.status_handlers: dict[int, Handler] = {}
        self.error_handler: Handler | None = None
        for key, value in app.exception_handlers.items():  # as build_middleware_stack splits
            if key in (500, Exception):
                self.error_handler = value
            elif isinstance(key, int):
                self.status_handlers[key] = value
            else:
                self.handlers[key] = value
        plain = not app.user_middleware and app.max_body_size is None and not app.debug
        handlers = [*self.handlers.values(), *self.status_handlers.values()]
        if self.error_handler is not None:
            handlers.append(self.error_handler)
        plain = plain and all(inspect.iscoroutinefunction(h) for h in handlers)
        self.create = _route_endpoint(app, "POST", TASK) if plain else None
        self.get = _route_endpoint(app, "GET", TASK_BY_ID) if plain else None

    def route(self, scope: Scope) -> tuple[Endpoint, dict[str, str]] | None:
        """The endpoint and path parameters this path serves ``scope`` (an HTTP request) with,
        or None: not create or get, or not on the plain shape (then the app serves it)."""
        if scope.get("root_path"):
            return None
        method = scope["method"]
        if method == "POST":
            if self.create is not None and scope["path"] == TASK:
                return self.create, {}
        elif method == "GET" and self.get is not None:
            path: str = scope["path"]
            if path.startswith(_PREFIX):
                task_id = path[_PREFIX_LEN:]
                if task_id and "/" not in task_id:
                    return self.get, {"task_id": task_id}
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.route(scope) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        await self.serve(found[0], found[1], scope, receive, send)

    async def serve(
        self,
        endpoint: Endpoint,
        params: dict[str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        """What Starlette's stack does for a request routed to ``endpoint``, minus the routing."""
        scope["app"] = self.app
        scope["router"] = self.app.router
        scope["endpoint"] = endpoint
        scope["path_params"] = params
        request = Request(scope, receive, send)
        try:
            try:
                response = await endpoint(request)
            except Exception as exc:
                handler = self._handler(exc)
                if handler is None:
                    raise
                response = await handler(request, exc)
                exc.__traceback__ = None  # as Starlette: reused exceptions pile up no frames
        except Exception as exc:
            await self._server_error(request, exc, scope, receive, send)
            raise
        if type(response) is JSONBytes:  # what Response.__call__ sends, without its frame
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": response.raw_headers,
                }
            )
            await send({"type": "http.response.body", "body": response.body})
            return
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Handler | None:
        """ExceptionMiddleware's choice: by status for HTTPException, else by class."""
        if isinstance(exc, HTTPException):
            found = self.status_handlers.get(exc.status_code)
            if found is not None:
                return found
        return _lookup(self.handlers, exc)

    async def _server_error(
        self, request: Request, exc: Exception, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """ServerErrorMiddleware's answer (the caller re-raises, as it does)."""
        if self.error_handler is None:
            response: Response = PlainTextResponse("Internal Server Error", status_code=500)
        else:
            response = await self.error_handler(request, exc)
        await response(scope, receive, send)


def wrap(app: Starlette) -> FastPath:
    """``app`` behind the fast path (which passes everything it does not serve to ``app``)."""
    return FastPath(app)
