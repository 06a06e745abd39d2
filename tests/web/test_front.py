"""The front layer serves create and get in one frame only when every layer would pass them.

The shipped stack (``create_asgi``: front, gate, faults, body deadline, fast path) is compared
with the same layers without the front and without the fast path, message by message, over the
fast path's replay (every failure of both routes, faults, scenarios, near-miss paths), with
faults armed and not; and the layers a hot request skips are shown to be skipped only when
they would have passed it on.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.applications import Starlette
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from mock_server import limits, server
from mock_server.domain.backend import manual_backend
from mock_server.settings import Settings
from mock_server.web import control_guard, faults, front
from mock_server.web.app import create_app, create_asgi
from tests.web.test_fastpath import KEY, drive, replay, seed_bytes

pytestmark = pytest.mark.anyio

PLAIN = Settings(seed=3, max_body_bytes=4096)


def twins(settings: Settings) -> tuple[Any, Any, list[Any]]:
    """(shipped stack, the same layers with neither front nor fast path, backends+clocks)."""
    shipped, plain = manual_backend(settings), manual_backend(settings)
    app = create_app(backend=plain[0])
    layered = limits.wrap(app, plain[0].settings)
    stack = control_guard.wrap(faults.wrap(layered, plain[0]), plain[0])
    return create_asgi(backend=shipped[0]), stack, [shipped, plain]


async def first_task(app: Any, twin: Any = None) -> str:
    """The first task created (faults at a rate may refuse a few creates first; a ``twin``
    is sent each create too and must answer it the same)."""
    for _ in range(20):
        sent, _ = await drive(app, "POST", "/api/v1/task", seed_bytes(), [KEY])
        if twin is not None:
            assert sent == (await drive(twin, "POST", "/api/v1/task", seed_bytes(), [KEY]))[0]
        if sent and sent[0]["status"] == 200:
            task_id: str = json.loads(sent[1]["body"])["data"]["task_id"]
            return task_id
    raise AssertionError("no create succeeded")


@pytest.mark.parametrize(
    "settings",
    [PLAIN, PLAIN.replace(fault_rate=0.5), PLAIN.replace(scenario_headers=False)],
    ids=["plain", "fault-rate", "no-headers"],
)
async def test_the_shipped_stack_answers_as_the_layers_do(settings: Settings) -> None:
    shipped, layered, pairs = twins(settings)
    first = await first_task(shipped, layered)
    statuses = await replay(shipped, layered, first, [clock for _, clock in pairs])
    assert {200, 400, 401, 404} <= statuses
    (one, _), (other, _) = pairs
    assert list(one.journal) == list(other.journal)
    assert [r.task_id for r in one.store] == [r.task_id for r in other.store]
    assert one.listening == other.listening == {("127.0.0.1", 8000)}


def count_calls(monkeypatch: pytest.MonkeyPatch, cls: Any) -> list[str]:
    seen: list[str] = []
    real = cls.__call__

    async def counting(self: Any, scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await real(self, scope, receive, send)

    monkeypatch.setattr(cls, "__call__", counting)
    return seen


async def test_only_requests_no_layer_acts_on_skip_the_layers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_asgi(backend=manual_backend(PLAIN)[0])
    assert isinstance(app, front.Front)
    passed = count_calls(monkeypatch, faults.FaultLayer)
    bounded = count_calls(monkeypatch, limits.BodyDeadline)
    task_id = await first_task(app)  # drive hands a one-message body over as uvicorn does
    await drive(app, "GET", f"/api/v1/task/{task_id}", headers=[KEY])
    assert passed == bounded == []  # both hot requests: one frame
    await drive(app, "GET", f"/api/v1/task/{task_id}", headers=[KEY, (b"x-mock-fault", b"503")])
    await drive(app, "GET", f"/api/v1/task/{task_id}", headers=[KEY, KEY])
    body = seed_bytes()
    await drive(app, "POST", "/api/v1/task", headers=[KEY], chunks=[body[:9], body[9:]])
    await drive(app, "GET", "/openapi.json")
    assert len(passed) == 4  # a fault header, a repeated key, a streamed body, another route
    assert bounded == ["/api/v1/task", "/openapi.json"]  # the fault layer answered the others


async def test_a_body_still_arriving_goes_through_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_asgi(backend=manual_backend(PLAIN)[0])
    bounded = count_calls(monkeypatch, limits.BodyDeadline)
    body = seed_bytes()
    sent, _ = await drive(app, "POST", "/api/v1/task", headers=[KEY], chunks=[body[:9], body[9:]])
    assert sent[0]["status"] == 200
    assert bounded == ["/api/v1/task"]


def test_strict_mode_keeps_every_request_in_the_polling_layer() -> None:
    app = create_asgi(backend=manual_backend(PLAIN.replace(strict=True))[0])
    assert isinstance(app, control_guard.ControlGuard)


async def test_the_comparison_catches_a_front_that_skips_a_fault() -> None:
    """A front that forgot the fault header answers 200 where the fault layer answers 503."""
    shipped, layered, _ = twins(PLAIN)
    assert isinstance(shipped, front.Front)
    shipped.passes = lambda scope, receive: True  # type: ignore[method-assign]
    request: dict[str, Any] = {"method": "POST", "path": "/api/v1/task", "body": seed_bytes()}
    request["headers"] = [KEY, (b"x-mock-fault", b"503")]
    got, expected = await drive(shipped, **request), await drive(layered, **request)
    assert expected[0][0]["status"] == 503
    assert got != expected


async def test_a_front_that_skips_the_deadline_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_asgi(backend=manual_backend(PLAIN)[0])
    assert isinstance(app, front.Front)
    bounded = count_calls(monkeypatch, limits.BodyDeadline)
    app.seconds = 0  # as if the deadline were off: a streamed body skips it
    body = seed_bytes()
    await drive(app, "POST", "/api/v1/task", headers=[KEY], chunks=[body[:9], body[9:]])
    assert bounded != ["/api/v1/task"]


TRUSTED = "127.0.0.1,::1"  # uvicorn's default --forwarded-allow-ips


def proxied_twins() -> tuple[Any, Any, list[Any]]:
    """(front doing the proxy-header work, uvicorn's middleware in front of the same stack)."""
    one, other = manual_backend(PLAIN), manual_backend(PLAIN)
    inside = create_asgi(backend=one[0])
    inside.take_proxy_headers(TRUSTED)
    outside = ProxyHeadersMiddleware(create_asgi(backend=other[0]), trusted_hosts=TRUSTED)
    return inside, outside, [one, other]


FORWARDED_REQUESTS: list[dict[str, Any]] = [
    {"headers": [KEY]},
    {"headers": [KEY, (b"x-forwarded-proto", b"https")]},
    {"headers": [KEY, (b"x-forwarded-proto", b"https"), (b"x-forwarded-for", b"203.0.113.9")]},
    {"headers": [KEY, (b"x-forwarded-proto", b"https")], "client": ("198.51.100.7", 4000)},
    {"headers": [KEY, (b"x-forwarded-for", b"203.0.113.9, 127.0.0.1")]},
]


async def test_proxy_headers_read_in_the_front_as_uvicorn_reads_them() -> None:
    inside, outside, pairs = proxied_twins()
    ids = []
    for request in FORWARDED_REQUESTS:
        got = await drive(inside, "POST", "/api/v1/task", seed_bytes(), **request)
        assert got == await drive(outside, "POST", "/api/v1/task", seed_bytes(), **request)
        ids.append(json.loads(got[0][1]["body"])["data"]["task_id"])
    for _, clock in pairs:
        clock.advance(600)  # every task completed: its video URL names the scheme
    urls = set()
    for task_id, request in zip(ids, FORWARDED_REQUESTS, strict=True):
        path = f"/api/v1/task/{task_id}"
        got = await drive(inside, "GET", path, **request)
        assert got == await drive(outside, "GET", path, **request)
        urls.add(json.loads(got[0][1]["body"])["data"]["output"]["video"].split(":")[0])
    assert urls == {"http", "https"}  # the forwarded scheme was read, and only when trusted
    assert list(pairs[0][0].journal) == list(pairs[1][0].journal)


async def test_the_comparison_catches_a_front_that_ignores_forwarded_headers() -> None:
    inside, outside, pairs = proxied_twins()
    inside.forwarded = False  # as if the scan forgot the proxy headers: the shortcut takes all
    request: dict[str, Any] = {"headers": [KEY, (b"x-forwarded-proto", b"https")]}
    task_id = json.loads(
        (await drive(inside, "POST", "/api/v1/task", seed_bytes(), **request))[0][1]["body"]
    )["data"]["task_id"]
    await drive(outside, "POST", "/api/v1/task", seed_bytes(), **request)
    for _, clock in pairs:
        clock.advance(600)
    path = f"/api/v1/task/{task_id}"
    got = await drive(inside, "GET", path, **request)
    assert got != await drive(outside, "GET", path, **request)


def test_serve_hands_the_proxy_headers_to_the_front_only() -> None:
    settings = Settings()
    app = create_asgi(backend=manual_backend(PLAIN)[0])
    config = server.uvicorn_config(app, settings)
    assert config.proxy_headers
    assert server.proxy_headers_inside(app, config)
    assert not config.proxy_headers  # uvicorn adds no middleware of its own now
    assert app.forwarded
    assert isinstance(app.outer, ProxyHeadersMiddleware)
    assert app.outer.trusted_hosts.always_trust is False
    bare = Starlette()
    config = server.uvicorn_config(bare, settings)
    assert not server.proxy_headers_inside(bare, config)
    assert config.proxy_headers  # any other app keeps uvicorn's
    off = server.uvicorn_config(app, settings, proxy_headers=False)
    fresh = create_asgi(backend=manual_backend(PLAIN)[0])
    assert not server.proxy_headers_inside(fresh, off)
    assert not fresh.forwarded  # asked for no proxy headers: none read
