"""Strict mode: contract violations in what clients send, at ``/_mock/violations``.

With ``--strict`` (``PIAPI_MOCK_STRICT=1``, marker keyword ``strict``) every request the fake
refuses is recorded with its JSON pointer and rule, so a test of a client in any language can
assert it sent nothing the contract forbids: ``GET /_mock/violations`` lists them,
``DELETE /_mock/violations`` clears them, and ``POST /_mock/reset`` clears them too. The fake
answers exactly as without strict mode; only the record is extra. On a shared store the log
is one store log for every process (a request refused by any worker is listed by all).
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.domain.backend import Backend
from mock_server.domain.errors import InvalidRequest, PiapiError, Unauthorized
from mock_server.domain.observers import BackendObserver
from mock_server.domain.render import rfc3339
from mock_server.domain.store import TaskStore
from mock_server.web.responses import json_data

LIMIT: Final = 1000
#: On a shared store: the log's name and the key remembering where the last clear was.
STORE_LOG: Final = "violations"
CLEARED: Final = "violations:cleared"


class ViolationLog(BackendObserver):
    """The last :data:`LIMIT` refused requests; forgotten when the backend resets."""

    def __init__(self) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=LIMIT)
        self.count = 0

    def add(self, entry: dict[str, Any]) -> None:
        """Remember one refused request."""
        self.entries.append(entry)
        self.count += 1

    def reset(self) -> None:
        """Forget everything (the backend was reset, or ``DELETE /_mock/violations``)."""
        self.entries.clear()
        self.count = 0

    def snapshot(self) -> tuple[int, list[dict[str, Any]]]:
        """(violations recorded since the last reset or clear, the kept ones oldest first)."""
        return self.count, list(self.entries)


class StoreViolationLog(ViolationLog):
    """The violation log as one store log for every process (a shared store).

    A clear remembers how many entries the store log had (``violations:cleared``); only
    later ones are listed and counted. A reset clears the store itself.
    """

    def __init__(self, store: TaskStore) -> None:
        super().__init__()
        self.store = store

    def add(self, entry: dict[str, Any]) -> None:
        self.store.append(STORE_LOG, [json.dumps(entry, separators=(",", ":"))], LIMIT)

    def reset(self) -> None:
        self.store.kv_set(CLEARED, str(self.store.log_count(STORE_LOG)))

    def snapshot(self) -> tuple[int, list[dict[str, Any]]]:
        cleared = int(self.store.kv_get(CLEARED) or 0)
        total = self.store.log_count(STORE_LOG)
        count = max(0, total - cleared) if total >= cleared else total
        kept = self.store.tail(STORE_LOG, min(count, LIMIT))
        return count, [json.loads(text) for text in kept]


def violation_log(backend: Backend) -> ViolationLog:
    """The backend's violation log, registered as an observer on first use."""
    for observer in backend.observers:
        if isinstance(observer, ViolationLog):
            return observer
    log = StoreViolationLog(backend.store) if backend.shared else ViolationLog()
    backend.observers.append(log)
    return log


def _violations(error: PiapiError) -> list[dict[str, str]]:
    if isinstance(error, InvalidRequest):
        return [
            {"pointer": v.pointer, "rule": v.rule, "message": v.message} for v in error.violations
        ]
    if isinstance(error, Unauthorized):
        return [{"pointer": "/headers/x-api-key", "rule": "required", "message": error.message}]
    return [{"pointer": "", "rule": type(error).__name__, "message": error.message}]


def record(request: Request, error: PiapiError) -> None:
    """Remember a rejected request when the server runs in strict mode (never raises)."""
    backend: Backend | None = getattr(request.app.state, "backend", None)
    if backend is None or not backend.settings.strict or request.url.path.startswith("/_mock/"):
        return
    violation_log(backend).add(
        {
            "at": rfc3339(backend.clock.now()),
            "method": request.method,
            "path": request.url.path,
            "status": error.status,
            "message": error.message,
            "violations": _violations(error),
        }
    )


async def violations(request: Request) -> Response:
    """GET /_mock/violations: what clients sent that the contract forbids, oldest first."""
    backend: Backend = request.app.state.backend
    count, entries = violation_log(backend).snapshot()
    body = {"strict": backend.settings.strict, "count": count, "violations": entries}
    return json_data(body)


async def clear(request: Request) -> Response:
    """DELETE /_mock/violations: forget the recorded violations."""
    violation_log(request.app.state.backend).reset()
    return json_data({"count": 0, "violations": []})


def routes() -> list[BaseRoute]:
    """Routes under ``/_mock`` for recorded violations."""
    return [
        Route("/_mock/violations", violations, methods=["GET"]),
        Route("/_mock/violations", clear, methods=["DELETE"]),
    ]
