"""The ``/_mock`` control plane: not part of PiAPI, never in its OpenAPI document.

JSON in and out: health, reset (optionally with a new seed), the clock (read, advance, speed),
tasks (list and dump) and the request journal.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.domain.clock import MAX_ADVANCE_S, MAX_SPEED, MIN_SPEED
from mock_server.domain.errors import PiapiError, TaskNotFound
from mock_server.domain.grammar import ascii_int
from mock_server.domain.lifecycle import view as view_at
from mock_server.domain.models import TaskRecord
from mock_server.domain.render import rfc3339, task_dict
from mock_server.domain.shared_rules import propagated
from mock_server.web.api import backend_of
from mock_server.web.body import read_json_object
from mock_server.web.responses import json_data

CONTROL_BODY_LIMIT = 64 * 1024


async def control_body(request: Request) -> dict[str, Any]:
    """A control-plane JSON object body (empty allowed)."""
    return await read_json_object(request, CONTROL_BODY_LIMIT, allow_empty=True)


#: Bounds of control values (issue #11): every one is checked before any state changes.
MAX_SEED: Final = 2**63 - 1
MAX_PAGE: Final = 10_000
DEFAULT_PAGE: Final = 1000


def number(body: dict[str, Any], key: str, minimum: float, maximum: float) -> float:
    """A required number field of a control body within [minimum, maximum], or a clear 400."""
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PiapiError(f"invalid request: /{key}: a number is required")
    if not minimum <= value <= maximum:  # also refuses inf and nan (JSON 1e400 is inf)
        raise PiapiError(f"invalid request: /{key}: must be between {minimum:g} and {maximum:g}")
    return float(value)


def clock_state(request: Request) -> dict[str, Any]:
    """The clock as JSON (re-read first on a shared store: another process may have moved it)."""
    backend = backend_of(request)
    backend.sync()
    clock = backend.clock
    now = clock.now()
    return {"now": now / 1e9, "now_ns": now, "iso": rfc3339(now), "speed": clock.speed}


async def health(request: Request) -> Response:
    """GET /_mock/health: task count, the store cap and what pruning removed."""
    backend = backend_of(request)
    return json_data(
        {
            "status": "ok",
            "tasks": len(backend.store),
            "max_tasks": backend.settings.max_tasks,
            "evicted": backend.evicted,
            "expired": backend.expired,
        }
    )


async def reset(request: Request) -> Response:
    """POST /_mock/reset {"seed"?: int}: forget tasks, journal and logs; re-seed."""
    body = await control_body(request)
    seed = body.get("seed")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED
    ):
        raise PiapiError(f"invalid request: /seed: an integer between 0 and {MAX_SEED}")
    backend = backend_of(request)
    backend.reset(seed)
    await propagated(backend.shared)  # other processes' copies of the rules are gone too
    return json_data({"status": "reset", "seed": backend.settings.seed})


async def clock(request: Request) -> Response:
    """GET /_mock/clock."""
    return json_data(clock_state(request))


async def advance(request: Request) -> Response:
    """POST /_mock/clock/advance {"seconds": N}."""
    body = await control_body(request)
    seconds = number(body, "seconds", 0, MAX_ADVANCE_S)
    try:
        backend_of(request).advance(seconds)
    except ValueError as exc:
        raise PiapiError(f"invalid request: /seconds: {exc}") from exc
    return json_data(clock_state(request))


async def speed(request: Request) -> Response:
    """POST /_mock/clock/speed {"speed": X} (not on a manual clock)."""
    body = await control_body(request)
    value = number(body, "speed", MIN_SPEED, MAX_SPEED)
    try:
        backend_of(request).set_speed(value)
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


def _query_int(request: Request, key: str, default: int | None, maximum: int) -> int | None:
    text = request.query_params.get(key)
    if text is None:
        return default
    value = ascii_int(text)
    if value is None or not 1 <= value <= maximum:
        raise PiapiError(f"invalid request: {key}: an integer between 1 and {maximum} (ASCII)")
    return value


async def tasks(request: Request) -> Response:
    """GET /_mock/tasks?status=&owner=&limit=&after= : one page of tasks, oldest first.

    ``tasks`` holds up to ``limit`` (1-10000, default 1000) tasks in created order after the
    cursor ``after`` (absent: from the oldest); ``next`` is the cursor of the next page, or
    null at the end. ``status`` and ``owner`` (the full key) filter within the page, so a
    page costs O(limit) however many tasks are stored (a filtered page may be short while
    ``next`` is not null). ``count`` is the page's tasks, ``total`` every stored task.
    """
    backend = backend_of(request)
    wanted = request.query_params.get("status")
    owner = request.query_params.get("owner")
    limit = _query_int(request, "limit", DEFAULT_PAGE, MAX_PAGE) or DEFAULT_PAGE
    after = request.query_params.get("after")
    if after is not None and ascii_int(after) is None:
        raise PiapiError("invalid request: after: a cursor from a previous page's next")
    backend.catch_up()
    records, cursor = backend.store.scan(after, limit)
    found = []
    for record in records:
        if (owner is None or record.owner == owner) and not backend.is_expired(record):
            item = dump(request, record)
            if not wanted or item["task"]["status"] == wanted:
                found.append(item)
    more = len(records) == limit and bool(backend.store.scan(cursor, 1)[0])
    total = len(backend.store)
    return json_data(
        {"count": len(found), "total": total, "next": cursor if more else None, "tasks": found}
    )


async def task(request: Request) -> Response:
    """GET /_mock/tasks/{task_id}: any owner's task."""
    task_id = request.path_params["task_id"]
    backend = backend_of(request)
    backend.sync()
    record = backend.store.get(task_id)
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
