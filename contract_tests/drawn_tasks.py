"""Task objects in every status, envelopes and webhook bodies: what a client must handle.

Built from the schemas' enums and rules, including the awkward-but-valid: ``logs: null`` or a
list, ``detail`` anything, empty secrets, ``service_mode: ""``, ``usage.type: "llm"``, very
long ids and URLs, timestamps with 0-9 fractional digits, a failure before processing began.
"""

from __future__ import annotations

import string
import time
import uuid
from functools import cache
from typing import Final

from hypothesis import strategies as st

from contract_tests.facts import facts
from contract_tests.instants import NS, ZERO_TIME
from contract_tests.strategies import Body, task_inputs, urls

_ID_CHARS: Final = string.ascii_letters + string.digits + "-_"
_2024: Final = 1_704_067_200
_2030: Final = 1_893_456_000
_SUCCESS_ERROR: Final = {"code": 0, "raw_message": "", "message": "", "detail": None}


def stamp(ns: int, digits: int) -> str:
    """An RFC 3339 UTC timestamp with ``digits`` fractional digits (0-9, zeros kept)."""
    whole, fraction = divmod(ns, NS)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    if digits:
        text += "." + f"{fraction:09d}"[:digits]
    return text + "Z"


@cache
def task_ids() -> st.SearchStrategy[str]:
    """Task ids: UUIDs as PiAPI issues them, and long or odd (but path-safe) ones."""
    return st.one_of(
        st.uuids(version=4).map(str),
        st.text(alphabet=_ID_CHARS, min_size=1, max_size=12),
        st.text(alphabet=_ID_CHARS, min_size=1, max_size=4).map(lambda s: (s * 300)[:1024]),
    )


@st.composite
def _instants(draw: st.DrawFn) -> tuple[int, int, int]:
    """created <= started <= ended, in nanoseconds."""
    created = draw(st.integers(_2024, _2030)) * NS + draw(st.integers(0, NS - 1))
    started = created + draw(st.integers(0, 3600 * NS))
    ended = started + draw(st.integers(0, 3600 * NS))
    return created, started, ended


@st.composite
def _config_echo(draw: st.DrawFn) -> Body:
    return {
        "service_mode": draw(st.sampled_from(facts().service_modes)),
        "webhook_config": {
            "endpoint": draw(st.one_of(st.just(""), urls())),
            "secret": draw(st.one_of(st.just(""), st.text(max_size=20))),
        },
    }


@st.composite
def _failure(draw: st.DrawFn) -> Body:
    code = draw(st.one_of(st.sampled_from([10000, 1301, 1303, 499, 500]), st.integers(1, 99999)))
    return {
        "code": code,
        "raw_message": draw(st.text(max_size=30)),
        "message": draw(st.text(min_size=1, max_size=60)),
        "detail": draw(st.one_of(st.none(), st.just({}), st.text(max_size=10))),
    }


def _times(status: str, instants: tuple[int, int, int], digits: int, early: bool) -> list[str]:
    created, started, ended = (stamp(t, digits) for t in instants)
    if status in {"pending", "staged"}:
        return [created, ZERO_TIME, ZERO_TIME]
    if status == "processing":
        return [created, started, ZERO_TIME]
    if status in {"failed", "cancelled"} and early:
        return [created, ZERO_TIME, ended]
    return [created, started, ended]


@st.composite
def _task(draw: st.DrawFn, status: str | None) -> Body:
    f = facts()
    status = status or draw(st.sampled_from(f.statuses))
    digits = draw(st.integers(0, 9))
    early = draw(st.booleans())
    created, started, ended = _times(status, draw(_instants()), digits, early)
    frozen = draw(st.integers(0, 10**9))
    completed = status == "completed"
    consume = draw(st.sampled_from([frozen, 0, frozen // 2])) if completed else 0
    failed = status == "failed" or (status == "cancelled" and draw(st.booleans()))
    return {
        "task_id": draw(task_ids()),
        "model": f.model,
        "task_type": f.task_type,
        "status": status,
        "config": draw(_config_echo()),
        "input": draw(task_inputs()),
        "output": {"video": draw(urls()) if completed else ""},
        "meta": {
            "created_at": created,
            "started_at": started,
            "ended_at": ended,
            "usage": {
                "type": draw(st.sampled_from(f.usage_types)),
                "frozen": frozen,
                "consume": consume,
            },
            "is_using_private_pool": draw(st.booleans()),
        },
        "detail": draw(st.one_of(st.none(), st.just({}), st.just(""))),
        "logs": draw(st.one_of(st.none(), st.just([]), st.lists(st.text(max_size=20), max_size=3))),
        "error": draw(_failure()) if failed else dict(_SUCCESS_ERROR),
    }


@cache
def tasks(status: str | None = None) -> st.SearchStrategy[Body]:
    """Schema-valid task objects (in ``status``, or any status)."""
    return _task(status)


@cache
def envelopes(status: str | None = None) -> st.SearchStrategy[Body]:
    """Success envelopes ``{code: 200, data: task, message: "success"}``."""
    return tasks(status).map(lambda task: {"code": 200, "data": task, "message": "success"})


@cache
def error_envelopes(
    codes: tuple[int, ...] = (400, 401, 402, 404, 429, 500, 502, 503),
) -> st.SearchStrategy[Body]:
    """Error envelopes ``{code, data: null, message}`` with the given HTTP codes."""
    return st.builds(
        lambda code, message: {"code": code, "data": None, "message": message},
        st.sampled_from(codes),
        st.text(min_size=1, max_size=60),
    )


@cache
def webhook_bodies(status: str | None = None) -> st.SearchStrategy[Body]:
    """Webhook bodies ``{timestamp, data: task}``."""
    return st.builds(
        lambda ts, task: {"timestamp": ts, "data": task}, st.integers(_2024, _2030), tasks(status)
    )


def new_task_id() -> str:
    """A fresh UUID task id (not drawn: ids a server is unlikely to know)."""
    return str(uuid.uuid4())


__all__ = [
    "envelopes",
    "error_envelopes",
    "new_task_id",
    "stamp",
    "task_ids",
    "tasks",
    "webhook_bodies",
]
