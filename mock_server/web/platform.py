"""PiAPI's platform routes: account info, active tasks, task history (query parsing only)."""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.domain import platform
from mock_server.domain.clock import NS
from mock_server.domain.errors import PiapiError
from mock_server.web.api import backend_of, caller, journal
from mock_server.web.responses import json_data

#: ``page_size`` bound (third-party connector docs: at most 100).
MAX_PAGE_SIZE: Final = 100
_MAX_DIGITS: Final = 12


async def account_info(request: Request) -> Response:
    """GET /account/info: a simulated account with every field real clients read."""
    backend = backend_of(request)
    owner = caller(request)
    journal(request, 200)
    return json_data({"code": 200, "data": backend.account(owner), "message": "success"})


async def active_tasks(request: Request) -> Response:
    """GET /account/active_tasks: unfinished tasks per provider (the vendor CLI's task list)."""
    backend = backend_of(request)
    owner = caller(request)
    data = platform.active_tasks(backend, owner)
    journal(request, 200)
    return json_data({"code": 200, "data": data, "message": "success"})


async def histories(request: Request) -> Response:
    """GET /api/open/tasks/histories?page&page_size&model&start_time&end_time (paged)."""
    backend = backend_of(request)
    owner = caller(request)
    params = request.query_params
    start, end = _number(params, "start_time", 0, None), _number(params, "end_time", 0, None)
    query = platform.HistoryQuery(
        page=_number(params, "page", 1, 1) or 1,
        page_size=_number(params, "page_size", 1, 20, MAX_PAGE_SIZE) or 20,
        model=params.get("model", ""),
        start_time=None if start is None else start * NS,
        end_time=None if end is None else end * NS,
    )
    result = platform.histories(backend, owner, query)
    journal(request, 200)
    return json_data({"code": 200, **result, "message": "success"})


def _number(
    params: object, name: str, low: int, default: int | None, high: int | None = None
) -> int | None:
    """An ASCII-digit query parameter within bounds; a 400 naming it otherwise."""
    raw = params.get(name)  # type: ignore[attr-defined]
    if raw is None or raw == "":
        return default
    text = str(raw)
    if not (text.isascii() and text.isdigit() and len(text) <= _MAX_DIGITS):
        raise PiapiError(
            f"invalid request: query parameter {name} must be ASCII digits "
            f"(at most {_MAX_DIGITS}), not {text[:20]!r}",
            400,
        )
    value = int(text)
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise PiapiError(f"invalid request: query parameter {name} must be {bound}", 400)
    return value


def routes() -> list[BaseRoute]:
    """The platform routes."""
    return [
        Route("/account/info", account_info, methods=["GET"]),
        Route("/account/active_tasks", active_tasks, methods=["GET"]),
        Route("/api/open/tasks/histories", histories, methods=["GET"]),
    ]
