"""The ``/_mock`` control plane: not part of PiAPI, never in its OpenAPI document.

JSON in and out: health, reset (optionally with a new seed), the clock (read, advance, speed),
tasks (list and dump) and the request journal.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.domain.errors import PiapiError, TaskNotFound
from mock_server.domain.lifecycle import view as view_at
from mock_server.domain.models import TaskRecord
from mock_server.domain.render import rfc3339, task_dict
from mock_server.web.api import backend_of
from mock_server.web.body import read_json_object
from mock_server.web.responses import json_data

CONTROL_BODY_LIMIT = 64 * 1024


async def control_body(request: Request) -> dict[str, Any]:
    """A control-plane JSON object body (empty allowed)."""
    return await read_json_object(request, CONTROL_BODY_LIMIT, allow_empty=True)


def number(body: dict[str, Any], key: str, minimum: float = 0.0) -> float:
    """A required number field of a control body, or a clear 400."""
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PiapiError(f"invalid request: /{key}: a number is required")
    if value < minimum:
        raise PiapiError(f"invalid request: /{key}: must be >= {minimum}")
    return float(value)


def clock_state(request: Request) -> dict[str, Any]:
    """The clock as JSON."""
    clock = backend_of(request).clock
    now = clock.now()
    return {"now": now / 1e9, "now_ns": now, "iso": rfc3339(now), "speed": clock.speed}


async def health(request: Request) -> Response:
    """GET /_mock/health."""
    return json_data({"status": "ok", "tasks": len(backend_of(request).store)})


async def reset(request: Request) -> Response:
    """POST /_mock/reset {"seed"?: int}: forget tasks, journal and logs; re-seed."""
    body = await control_body(request)
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise PiapiError("invalid request: /seed: an integer is required")
    backend = backend_of(request)
    backend.reset(seed)
    return json_data({"status": "reset", "seed": backend.settings.seed})


async def clock(request: Request) -> Response:
    """GET /_mock/clock."""
    return json_data(clock_state(request))


async def advance(request: Request) -> Response:
    """POST /_mock/clock/advance {"seconds": N}."""
    body = await control_body(request)
    backend_of(request).advance(number(body, "seconds"))
    return json_data(clock_state(request))


async def speed(request: Request) -> Response:
    """POST /_mock/clock/speed {"speed": X} (not on a manual clock)."""
    body = await control_body(request)
    try:
        backend_of(request).set_speed(number(body, "speed", minimum=1e-9))
    except ValueError as exc:
        raise PiapiError(f"invalid request: {exc}", status=409) from exc
    return json_data(clock_state(request))


def fingerprint(key: str) -> str:
    """A key as the control plane shows it: a short prefix and a SHA-256 prefix, never whole.

    The prefix is at most 4 characters and at most a quarter of the key, so short keys show
    nothing of themselves.
    """
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{key[: min(4, len(key) // 4)]}…{digest}"


def dump(request: Request, record: TaskRecord) -> dict[str, Any]:
    """One task for the control plane: its owner's fingerprint and the task as GET shows it."""
    backend = backend_of(request)
    current = view_at(record, backend.clock.now(), backend.cancel_status)
    return {"owner": fingerprint(record.owner), "task": task_dict(current)}


async def tasks(request: Request) -> Response:
    """GET /_mock/tasks?status=&owner=&limit= : newest last."""
    backend = backend_of(request)
    wanted = request.query_params.get("status")
    owner = request.query_params.get("owner")
    limit_text = request.query_params.get("limit", "1000")
    if not limit_text.isdigit():
        raise PiapiError("invalid request: limit must be a non-negative integer")
    found = [dump(request, r) for r in backend.records(owner)]
    if wanted:
        found = [t for t in found if t["task"]["status"] == wanted]
    return json_data({"count": len(found), "tasks": found[-int(limit_text) :] if found else []})


async def task(request: Request) -> Response:
    """GET /_mock/tasks/{task_id}: any owner's task."""
    task_id = request.path_params["task_id"]
    record = backend_of(request).store.get(task_id)
    if record is None:
        raise TaskNotFound(task_id)
    return json_data(dump(request, record))


async def journal(request: Request) -> Response:
    """GET /_mock/journal: the requests the fake answered, oldest first."""
    entries = backend_of(request).journal
    return json_data({"count": entries.call_count, "calls": [e.as_dict() for e in entries]})


def routes() -> list[BaseRoute]:
    """The control plane's routes (mounted under ``/_mock``)."""
    return [
        Route("/_mock/health", health, methods=["GET"]),
        Route("/_mock/reset", reset, methods=["POST"]),
        Route("/_mock/clock", clock, methods=["GET"]),
        Route("/_mock/clock/advance", advance, methods=["POST"]),
        Route("/_mock/clock/speed", speed, methods=["POST"]),
        Route("/_mock/tasks", tasks, methods=["GET"]),
        Route("/_mock/tasks/{task_id}", task, methods=["GET"]),
        Route("/_mock/journal", journal, methods=["GET"]),
    ]
