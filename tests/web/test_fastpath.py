"""The fast path answers create and get exactly as the Starlette stack does, byte for byte.

Two fakes over twin backends (same seed, manual clocks): one as ``create_asgi`` ships it (fast
path in front), one with the same layers but no fast path. Every request below goes to both;
every ASGI message sent (status, header list, body bytes), the exception raised, the journal,
the strict-mode violation log and the stored tasks must be equal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from mock_server.domain.backend import Backend, manual_backend
from mock_server.domain.clock import ManualClock
from mock_server.settings import Settings
from mock_server.web import control_guard, control_violations, fastpath, faults, strict_polling
from mock_server.web.app import create_app, create_asgi
from tests.conftest import seed_request

pytestmark = pytest.mark.anyio

Sent = tuple[list[dict[str, Any]], str | None]


def twins(settings: Settings) -> tuple[Any, Any, list[tuple[Backend, ManualClock]]]:
    """(fast app, plain app, their backends and clocks)."""
    fast_backend = manual_backend(settings)
    plain_backend = manual_backend(settings)
    fast = create_asgi(backend=fast_backend[0])
    app = create_app(backend=plain_backend[0])
    inner = strict_polling.wrap(faults.wrap(app, plain_backend[0]), plain_backend[0])
    plain = control_guard.wrap(inner, plain_backend[0])
    return fast, plain, [fast_backend, plain_backend]


async def drive(
    app: Any,
    method: str,
    path: str,
    body: bytes = b"",
    headers: Sequence[tuple[bytes, bytes]] = (),
    chunks: Sequence[bytes] | None = None,
    root_path: str = "",
    query: bytes = b"",
    client: tuple[str, int] = ("127.0.0.1", 50000),
) -> Sent:
    """One request through ``app`` over raw ASGI: the messages it sent, and what it raised."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": query,
        "root_path": root_path,
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": client,
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    parts = list(chunks) if chunks is not None else [body]
    messages = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]

    async def next_message() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    # One message: handed over as uvicorn does once it holds the whole body (a bound method of
    # an object whose ``more_body`` is False), so the front layer may take it; else streamed.
    receive = Held(next_message).receive if chunks is None else next_message

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        copy = dict(message)
        if "headers" in copy:
            copy["headers"] = [tuple(pair) for pair in copy["headers"]]
        sent.append(copy)

    raised = None
    try:
        await app(scope, receive, send)
    except Exception as exc:
        raised = type(exc).__name__
    return sent, raised


class Held:
    """A receive like uvicorn's once the whole body is in (what ``limits.complete`` reads)."""

    more_body = False

    def __init__(self, receive: Any) -> None:
        self.next = receive

    async def receive(self) -> dict[str, Any]:
        message: dict[str, Any] = await self.next()
        return message


KEY = (b"x-api-key", b"k")
JSON = (b"content-type", b"application/json")


def seed_bytes(**changes: Any) -> bytes:
    body = seed_request()
    body["config"]["webhook_config"]["endpoint"] = ""
    body["input"].update(changes)
    return json.dumps(body).encode()


def requests_to_replay(first_id: str) -> list[dict[str, Any]]:
    """Happy paths and every way create and get can fail, plus near-misses of both paths."""
    good = seed_bytes()
    task = f"/api/v1/task/{first_id}"
    return [
        {"method": "POST", "path": "/api/v1/task", "body": good, "headers": [KEY, JSON]},
        {
            "method": "POST",
            "path": "/api/v1/task",
            "chunks": [good[:10], good[10:]],
            "headers": [KEY],
        },
        {"method": "POST", "path": "/api/v1/task", "body": good},
        {"method": "POST", "path": "/api/v1/task", "body": good, "headers": [(b"x-api-key", b" ")]},
        {"method": "POST", "path": "/api/v1/task", "body": b"{bad", "headers": [KEY, JSON]},
        {
            "method": "POST",
            "path": "/api/v1/task",
            "body": b"{bad",
            "headers": [KEY, (b"content-type", b"text/plain")],
        },
        {"method": "POST", "path": "/api/v1/task", "body": b"[]", "headers": [KEY]},
        {"method": "POST", "path": "/api/v1/task", "body": b"", "headers": [KEY]},
        {"method": "POST", "path": "/api/v1/task", "body": b"\xef\xbb\xbf{}", "headers": [KEY]},
        {
            "method": "POST",
            "path": "/api/v1/task",
            "body": seed_bytes(duration=99),
            "headers": [KEY],
        },
        {
            "method": "POST",
            "path": "/api/v1/task",
            "body": seed_bytes(duration=5.0),
            "headers": [KEY],
        },
        {"method": "POST", "path": "/api/v1/task", "body": b'{"model":"x"}', "headers": [KEY]},
        {"method": "POST", "path": "/api/v1/task", "body": b"x" * 5000, "headers": [KEY]},
        {
            "method": "POST",
            "path": "/api/v1/task",
            "body": good,
            "headers": [KEY, (b"content-length", b"99999")],
        },
        {
            "method": "POST",
            "path": "/api/v1/task",
            "body": good,
            "headers": [KEY, (b"x-mock-scenario", b"fail")],
        },
        {
            "method": "POST",
            "path": "/api/v1/task",
            "body": good,
            "headers": [KEY, (b"x-mock-scenario", b"nonsense!")],
        },
        {
            "method": "POST",
            "path": "/api/v1/task",
            "body": good,
            "headers": [KEY, (b"x-mock-fault", b"503")],
        },
        {"method": "POST", "path": "/api/v1/task", "body": good, "headers": [KEY], "query": b"a=1"},
        {
            "method": "POST",
            "path": "/api/v1/task",
            "body": good,
            "headers": [KEY],
            "root_path": "/x",
        },
        {"method": "POST", "path": "/api/v1/task/", "body": good, "headers": [KEY]},
        {"method": "PUT", "path": "/api/v1/task", "body": good, "headers": [KEY]},
        {"method": "GET", "path": task, "headers": [KEY]},
        {"method": "GET", "path": task, "headers": [(b"x-api-key", b"other")]},
        {"method": "GET", "path": task},
        {"method": "GET", "path": task, "headers": [KEY, (b"x-mock-fault", b"429")]},
        {"method": "GET", "path": "/api/v1/task/no-such-task", "headers": [KEY]},
        {"method": "GET", "path": "/api/v1/task/" + "x" * 2000, "headers": [KEY]},
        {"method": "GET", "path": "/api/v1/task/a b\n", "headers": [KEY]},
        {"method": "GET", "path": "/api/v1/task/", "headers": [KEY]},
        {"method": "GET", "path": "/api/v1/task", "headers": [KEY]},
        {"method": "GET", "path": task + "/cancel", "headers": [KEY]},
        {"method": "HEAD", "path": task, "headers": [KEY]},
        {"method": "POST", "path": task + "/cancel", "headers": [KEY]},
        {"method": "GET", "path": task, "headers": [KEY]},
        {"method": "DELETE", "path": task, "headers": [KEY]},
    ]


async def replay(fast: Any, plain: Any, first_id: str, clocks: list[ManualClock]) -> set[int]:
    """Every request to both; the HTTP statuses seen."""
    statuses = set()
    for request in requests_to_replay(first_id):
        got, expected = await drive(fast, **request), await drive(plain, **request)
        assert got == expected, request
        statuses.add(got[0][0]["status"])
        for clock in clocks:
            clock.advance(7)  # statuses move on between requests
    return statuses


def journal(backend: Backend) -> list[Any]:
    return list(backend.journal)


SETTINGS = Settings(strict=True, seed=3, max_body_bytes=4096)


async def test_create_and_get_equal_the_starlette_stack() -> None:
    fast, plain, pairs = twins(SETTINGS)
    first = json.loads(
        (await drive(fast, "POST", "/api/v1/task", seed_bytes(), [KEY]))[0][1]["body"]
    )
    again = json.loads(
        (await drive(plain, "POST", "/api/v1/task", seed_bytes(), [KEY]))[0][1]["body"]
    )
    assert first == again
    clocks = [clock for _, clock in pairs]
    statuses = await replay(fast, plain, first["data"]["task_id"], clocks)
    assert statuses >= {200, 400, 401, 404, 413, 503, 429}
    (fast_backend, _), (plain_backend, _) = pairs
    assert journal(fast_backend) == journal(plain_backend)
    assert len(journal(fast_backend)) > 20
    fast_log = control_violations.violation_log(fast_backend).entries
    plain_log = control_violations.violation_log(plain_backend).entries
    assert list(fast_log) == list(plain_log)
    assert len(fast_log) > 5
    assert [r.task_id for r in fast_backend.store] == [r.task_id for r in plain_backend.store]


async def test_credits_refusal_and_unexpected_errors_equal_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast, plain, pairs = twins(Settings(credits_usd=0.5, seed=1))
    request: dict[str, Any] = {
        "method": "POST",
        "path": "/api/v1/task",
        "body": seed_bytes(),
        "headers": [KEY],
    }
    for _ in range(3):  # the third no longer fits the balance: 402
        assert await drive(fast, **request) == await drive(plain, **request)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    for backend, _ in pairs:
        monkeypatch.setattr(backend, "create_prepared", broken)
    got, expected = await drive(fast, **request), await drive(plain, **request)
    assert got == expected
    assert got[1] == "RuntimeError"
    assert got[0][0]["status"] == 500


async def test_the_fast_path_is_taken_for_create_and_get_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = Starlette.__call__

    async def counting(self: Starlette, scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["path"])
        await real(self, scope, receive, send)

    monkeypatch.setattr(Starlette, "__call__", counting)
    fast, _, _ = twins(Settings())
    sent, _ = await drive(fast, "POST", "/api/v1/task", seed_bytes(), [KEY])
    task_id = json.loads(sent[1]["body"])["data"]["task_id"]
    await drive(fast, "GET", f"/api/v1/task/{task_id}", headers=[KEY])
    await drive(fast, "GET", "/api/v1/task/unknown", headers=[KEY])
    assert calls == []
    await drive(fast, "GET", "/openapi.json")
    await drive(fast, "DELETE", f"/api/v1/task/{task_id}", headers=[KEY])
    assert calls == ["/openapi.json", f"/api/v1/task/{task_id}"]


async def test_the_comparison_catches_a_fast_path_that_differs() -> None:
    """A fast path that lost the app's exception handlers answers a 400 as a 500: caught."""
    fast, plain, _ = twins(Settings())
    path = fast
    while not isinstance(path, fastpath.FastPath):  # guard -> faults -> body deadline -> here
        path = path.app
    path.handlers = {}
    request: dict[str, Any] = {"method": "POST", "path": "/api/v1/task", "body": b"{bad"}
    request["headers"] = [KEY]
    assert await drive(fast, **request) != await drive(plain, **request)


async def ok(request: Request) -> Response:
    return PlainTextResponse("ok")


def sync_ok(request: Request) -> Response:
    return PlainTextResponse("ok")


def test_the_fast_path_steps_aside_when_the_app_is_not_the_plain_shape() -> None:
    base = [Route("/api/v1/task", ok, methods=["POST"]), Route(fastpath.TASK_BY_ID, ok)]
    plain = fastpath.FastPath(Starlette(routes=base))
    assert plain.create is ok
    assert plain.get is ok
    middleware = fastpath.FastPath(Starlette(routes=base, middleware=[Middleware(GZipMiddleware)]))
    assert (middleware.create, middleware.get) == (None, None)
    earlier = [Route("/api/v1/task/special", ok), *base]
    assert fastpath.FastPath(Starlette(routes=earlier)).get is None
    assert fastpath.FastPath(Starlette(routes=earlier)).create is ok  # GET route: no POST
    synchronous = [Route("/api/v1/task", sync_ok, methods=["POST"])]
    assert fastpath.FastPath(Starlette(routes=synchronous)).create is None
    assert fastpath.FastPath(Starlette(routes=base, debug=True)).create is None


async def test_everything_else_reaches_the_app() -> None:
    app = Starlette(routes=[Route("/other", ok)])
    path = fastpath.FastPath(app)
    sent, raised = await drive(path, "GET", "/other")
    assert raised is None
    assert sent[1]["body"] == b"ok"
    sent, _ = await drive(path, "POST", "/api/v1/task")
    assert sent[0]["status"] == 404


@given(
    text=st.text(max_size=50),
    status=st.sampled_from([100, 199, 200, 201, 204, 304, 400, 401, 402, 404, 413, 429, 500]),
)
def test_json_bytes_equals_starlettes_json_response(text: str, status: int) -> None:
    from mock_server.web.responses import json_text

    body = text.encode("utf-8", "surrogatepass")
    fast = json_text(body.decode("utf-8", "surrogatepass"), status)
    slow = Response(body, status_code=status, media_type="application/json")
    assert (fast.status_code, fast.body, fast.raw_headers) == (
        slow.status_code,
        slow.body,
        slow.raw_headers,
    )
    assert fast.headers["content-type"] == "application/json"
    assert fast.background is None


def test_the_response_check_tells_header_lists_apart() -> None:
    from mock_server.web.responses import JSONBytes

    wrong = JSONBytes(b"{}")
    wrong.raw_headers.reverse()
    assert wrong.raw_headers != Response(b"{}", media_type="application/json").raw_headers
