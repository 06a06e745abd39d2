"""``create_app``: the Starlette application over one :class:`Backend`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server import limits
from mock_server.domain.backend import Backend
from mock_server.domain.errors import PiapiError
from mock_server.settings import Settings
from mock_server.stores import outage
from mock_server.web import (
    api,
    control,
    control_guard,
    control_scenarios,
    control_violations,
    fastpath,
    faults,
    front,
    platform,
    strict_polling,
    ui,
)
from mock_server.web.answers import CreatedAnswers, FinishedAnswers
from mock_server.web.api import journal
from mock_server.web.openapi import openapi_document
from mock_server.web.responses import error_envelope, json_data, page_not_found
from mock_server.webhooks import attach_webhooks, webhook_routes

log = logging.getLogger("piapi_mock")


async def _piapi_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PiapiError)
    control_violations.record(request, exc)
    journal(request, exc.status, request.path_params.get("task_id", ""), exc.message)
    return error_envelope(exc.status, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown path or method: the real service's plain-text 404 (Go routers 404 both)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in {404, 405}:
        return page_not_found()
    return error_envelope(exc.status_code, str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> Response:
    """A bug in the fake: still the envelope, logged with its traceback.

    A shared store that does not answer is no bug: 503 with the store's error (a guess at
    what a client should see: PiAPI documents no error for its own outages).
    """
    if outage(exc):
        log.warning("store unavailable on %s %s: %r", request.method, request.url.path, exc)
        return error_envelope(503, f"store unavailable: {type(exc).__name__}: {exc}")
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_envelope(500, f"internal error in piapi-mock: {type(exc).__name__}")


async def _openapi(request: Request) -> Response:
    """GET /openapi.json: ``servers`` is this fake (``--public-url``, else the URL asked)."""
    public = request.app.state.backend.settings.public_url
    return json_data(openapi_document(public or api.base_url(request)))


class FakeApp(Starlette):
    """The Starlette app with its backend and answer caches as plain attributes (in
    ``app.state`` too): the hot routes find them without ``State``'s ``__getattr__``."""

    backend: Backend
    answers: FinishedAnswers
    created: CreatedAnswers


def create_app(settings: Settings | None = None, backend: Backend | None = None) -> Starlette:
    """The fake PiAPI as an ASGI app; pass a ``backend`` to share or drive its state."""
    backend = backend or Backend(settings or Settings())
    routes: list[BaseRoute] = [*api.routes(), *platform.routes()]
    routes.append(Route("/openapi.json", _openapi, methods=["GET"]))
    if backend.settings.control:
        routes += control.routes() + control_scenarios.routes() + control_violations.routes()
        routes += webhook_routes() + ui.routes()
    attach_webhooks(backend)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for observer in backend.observers:
            await observer.start()
        try:
            yield
        finally:
            for observer in backend.observers:
                await observer.stop()

    app = FakeApp(
        routes=routes,
        exception_handlers={
            PiapiError: _piapi_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
        lifespan=lifespan,
    )
    app.state.backend = app.backend = backend
    app.state.answers = app.answers = FinishedAnswers()  # GET answers of ended tasks
    app.state.created = app.created = CreatedAnswers()  # create answers per prepared body
    return app


def create_asgi(settings: Settings | None = None, backend: Backend | None = None) -> Any:
    """The app in the fault-injection layer behind the control gate (what ``serve`` and the
    plugin run): ``--no-control`` and ``--control-token`` apply to every ``/_mock`` path."""
    app = create_app(settings, backend)
    backend = app.state.backend
    fast = fastpath.wrap(app)  # create and get without the router (speed; same handlers)
    bounded = limits.wrap(fast, backend.settings)  # outside the fast path: it reads bodies too
    fault_layer = faults.wrap(bounded, backend)
    # strict_polling (kit's, only with --strict) sits outside faults so it sees injected 429s.
    inner = strict_polling.wrap(fault_layer, backend)
    guard = control_guard.wrap(inner, backend)
    if backend.settings.strict:  # every request goes through the polling layer (inner)
        return guard
    return front.wrap(guard, fault_layer, bounded)  # the hot routes in one frame (speed)
