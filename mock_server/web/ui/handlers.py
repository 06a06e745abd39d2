"""The dashboard's routes: the page itself and the few JSON reads the control plane lacks.

Everything is under ``/_mock/ui``, so the control gate (``--no-control``, ``--control-token``)
covers it like any ``/_mock`` path. The page is one response (style and script inlined, with a
Content-Security-Policy that allows exactly those two by hash), so a control token is needed
on one request only; the script then sends it as ``X-Mock-Control-Token`` on every call.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from importlib import resources
from typing import Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from mock_server.domain.errors import PiapiError, TaskNotFound
from mock_server.domain.models import TaskRecord
from mock_server.web.api import backend_of
from mock_server.web.responses import json_data
from mock_server.web.ui import state

PAGE_LIMIT_DEFAULT: Final = 50
ACCOUNTS_LIMIT: Final = 100


@lru_cache(maxsize=1)
def page() -> tuple[str, str]:
    """The page's HTML with its style and script inlined, and its Content-Security-Policy."""
    static = resources.files("mock_server.web.ui") / "static"
    return assemble(
        (static / "index.html").read_text(encoding="utf-8"),
        (static / "style.css").read_text(encoding="utf-8"),
        (static / "app.js").read_text(encoding="utf-8"),
    )


def assemble(html: str, style: str, script: str) -> tuple[str, str]:
    """``html`` with ``style`` and ``script`` inlined, and a policy allowing exactly those."""
    if "</script" in script.lower() or "</style" in style.lower():
        raise ValueError("an inlined script or style must not close its own element")
    html = html.replace("/*STYLE*/", style).replace("/*SCRIPT*/", script)
    policy = (
        "default-src 'none'; connect-src 'self'; img-src 'self' data:; "
        f"style-src '{_digest(style)}'; script-src '{_digest(script)}'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return html, policy


def _digest(text: str) -> str:
    raw = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(raw).decode("ascii")


async def dashboard(request: Request) -> Response:
    """GET /_mock/ui: the dashboard page."""
    html, policy = page()
    headers = {
        "content-security-policy": policy,
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
        "x-content-type-options": "nosniff",
    }
    return HTMLResponse(html, headers=headers)


def _bounded_int(request: Request, name: str, default: int, maximum: int) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise PiapiError(f"invalid request: {name} must be an integer from 1 to {maximum}")
    return int(text)


def _dispatcher_counts(request: Request) -> tuple[int, int]:
    from mock_server.webhooks import dispatcher_of

    dispatcher = dispatcher_of(backend_of(request))
    return dispatcher.log.count, dispatcher.pending()


async def poll(request: Request) -> Response:
    """GET /_mock/ui/api/poll: a few counters; the page refetches only what moved (O(1))."""
    backend = backend_of(request)
    counter = state.change_counter(backend)
    attempts, queued = _dispatcher_counts(request)
    return json_data(
        {
            "version": counter.version,
            "now_ns": backend.clock.now(),
            "speed": backend.clock.speed,
            "tasks": len(backend.store),
            "journal": backend.journal.call_count,
            "webhooks": attempts,
            "webhooks_queued": queued,
            "rules": [len(backend.scenarios.current()), len(backend.faults.current())],
            "kinds": sorted(counter.kinds),
        }
    )


async def tasks(request: Request) -> Response:
    """GET /_mock/ui/api/tasks?status=&key=&task_type=&model=&limit=: newest first."""
    params = request.query_params
    status = params.get("status", "")
    if status and status not in state.statuses():
        raise PiapiError(f"invalid request: status must be one of {', '.join(state.statuses())}")
    wanted = state.TaskFilter(
        status=status,
        key=params.get("key", ""),
        task_type=params.get("task_type", ""),
        model=params.get("model", ""),
    )
    limit = _bounded_int(request, "limit", PAGE_LIMIT_DEFAULT, state.MAX_PAGE)
    return json_data(state.task_page(backend_of(request), wanted, limit))


def _record(request: Request) -> TaskRecord:
    task_id = request.path_params["task_id"]
    record = backend_of(request).store.get(task_id)
    if record is None:
        raise TaskNotFound(task_id)
    return record


async def task(request: Request) -> Response:
    """GET /_mock/ui/api/tasks/{task_id}: request, answer now, webhook attempts, journal."""
    from mock_server.webhooks import dispatcher_of

    backend = backend_of(request)
    record = _record(request)
    attempts = [a.as_dict() for a in dispatcher_of(backend).log.for_task(record.task_id)]
    return json_data(state.task_detail(backend, record, attempts))


async def cancel(request: Request) -> Response:
    """POST /_mock/ui/api/tasks/{task_id}/cancel: cancel as its owner would (pending only)."""
    backend = backend_of(request)
    record = _record(request)
    message = backend.cancel(record.owner, record.task_id)
    return json_data({"task_id": record.task_id, "message": message})


async def accounts(request: Request) -> Response:
    """GET /_mock/ui/api/accounts: the first 100 keys' ledgers (by fingerprint)."""
    backend = backend_of(request)
    found = state.accounts(backend, ACCOUNTS_LIMIT)
    return json_data({"count": len(backend.ledger.accounts), "accounts": found})


async def journal(request: Request) -> Response:
    """GET /_mock/ui/api/journal?limit=: the newest entries first."""
    limit = _bounded_int(request, "limit", 30, state.JOURNAL_TAIL)
    return json_data(state.journal_tail(backend_of(request), limit))


def routes() -> list[BaseRoute]:
    """The dashboard's routes (mount only with the control plane on)."""
    return [
        Route("/_mock/ui", dashboard, methods=["GET"]),
        Route("/_mock/ui/api/poll", poll, methods=["GET"]),
        Route("/_mock/ui/api/tasks", tasks, methods=["GET"]),
        Route("/_mock/ui/api/tasks/{task_id}", task, methods=["GET"]),
        Route("/_mock/ui/api/tasks/{task_id}/cancel", cancel, methods=["POST"]),
        Route("/_mock/ui/api/accounts", accounts, methods=["GET"]),
        Route("/_mock/ui/api/journal", journal, methods=["GET"]),
    ]
