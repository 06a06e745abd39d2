"""The background sender (what ``serve`` runs): woken by the clock and by new tasks, bounded,
and stopped cleanly with deliveries in flight. Waits are real round trips, bounded."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from mock_server.domain.backend import Backend
from mock_server.domain.clock import NS, ManualClock, SystemClock
from mock_server.ports import free_port
from mock_server.settings import Settings
from mock_server.web.app import create_asgi
from mock_server.webhooks import Dispatcher, dispatcher_of
from mock_server.webhooks.receiver import Receiver
from tests.conftest import KEY
from tests.webhooks.conftest import create, hook_request

pytestmark = [pytest.mark.anyio, pytest.mark.socket]


@pytest.fixture
async def running(dispatcher: Dispatcher) -> AsyncIterator[Dispatcher]:
    """The dispatcher with its background task started in the test's loop."""
    await dispatcher.start()
    try:
        yield dispatcher
    finally:
        await dispatcher.stop()


async def test_background_delivers_on_create_and_on_clock_moves(
    client: httpx.AsyncClient, running: Dispatcher, receiver: Receiver
) -> None:
    await create(client, receiver.url)
    assert await running.wait_idle()
    assert receiver.count == 1
    response = await client.post("/_mock/clock/advance", json={"seconds": 3600})
    assert response.status_code == 200
    assert await running.wait_idle()
    statuses = [json.loads(r.body)["data"]["status"] for r in receiver.received]
    assert statuses == ["pending", "processing", "completed"]


@pytest.mark.parametrize("settings", [Settings(webhook_events="terminal")])
async def test_background_retries_follow_the_manual_clock(
    client: httpx.AsyncClient,
    backend: Backend,
    clock: ManualClock,
    running: Dispatcher,
    receiver: Receiver,
) -> None:
    task_id = await create(client, receiver.url)
    receiver.fail_next = 2
    backend.advance(3600)
    assert await running.wait_idle()
    assert receiver.count == 1
    backend.advance(4)
    assert await running.wait_idle()
    assert receiver.count == 1  # the retry is not due: the manual clock did not reach it
    await asyncio.to_thread(backend.advance, 1)  # from another thread, as a test thread would
    assert await running.wait_idle()
    backend.advance(5)
    assert await running.wait_idle()
    logged = running.log.for_task(task_id)
    assert [(a.attempt, a.status) for a in logged] == [(1, 500), (2, 500), (3, 200)]
    assert [b.at_ns - a.at_ns for a, b in itertools.pairwise(logged)] == [5 * NS] * 2


@pytest.mark.parametrize(
    "settings", [Settings(webhook_events="terminal", webhook_timeout=30, webhook_concurrency=4)]
)
async def test_stop_with_hanging_deliveries_in_flight_is_clean(
    client: httpx.AsyncClient, backend: Backend, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    receiver.mode = "hang"
    await dispatcher.start()
    for _ in range(10):
        await create(client, receiver.url)
    backend.advance(3600)
    await receiver.wait_for(4, timeout=2.0)
    assert receiver.count == 4  # bounded: webhook_concurrency attempts at once
    started = time.monotonic()
    await dispatcher.stop()
    assert time.monotonic() - started < 1.0
    assert len(dispatcher.log) == 0  # cancelled attempts are not logged as answers
    assert dispatcher.pending() == 10  # ...and go back to the schedule
    receiver.mode = "ok"
    await dispatcher.start()  # a restart sends them, as first attempts
    try:
        assert await dispatcher.wait_idle()
    finally:
        await dispatcher.stop()
    assert [a.attempt for a in dispatcher.log] == [1] * 10
    assert len({a.task_id for a in dispatcher.log}) == 10


@pytest.mark.parametrize("settings", [Settings(webhook_timeout=30, webhook_per_host=5)])
async def test_uvicorn_serves_while_receiver_hangs_and_shuts_down_cleanly(
    backend: Backend, receiver: Receiver
) -> None:
    receiver.mode = "hang"
    port = free_port()
    config = uvicorn.Config(
        create_asgi(backend=backend), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.get_running_loop().create_task(server.serve())
    try:
        async with asyncio.timeout(5):
            while not server.started:
                await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as api:
            for _ in range(5):
                answer = await api.post(
                    "/api/v1/task", json=hook_request(receiver.url), headers=KEY
                )
                assert answer.status_code == 200
            await receiver.wait_for(5, timeout=2.0)
            assert receiver.count == 5  # five created events hang in the receiver...
            started = time.monotonic()
            task_id = answer.json()["data"]["task_id"]
            got = await api.get(f"/api/v1/task/{task_id}", headers=KEY)
            assert got.status_code == 200  # ...and the API answers at once
            assert time.monotonic() - started < 1.0
    finally:
        server.should_exit = True
        started = time.monotonic()
        await asyncio.wait_for(serving, 5)
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("settings", [Settings(webhook_events="terminal")])
async def test_speed_scales_retries(settings: Settings, receiver: Receiver) -> None:
    """At ``--speed 1000`` a render (~80 virtual s) and two 5 s retries take well under 1 s."""
    backend = Backend(settings, clock=SystemClock(1000.0))
    dispatcher = dispatcher_of(backend)
    receiver.fail_next = 2
    await dispatcher.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_asgi(backend=backend)),
            base_url="https://api.piapi.ai",
        ) as client:
            task_id = await create(client, receiver.url)
            await receiver.wait_for(3, timeout=3.0)
            assert await dispatcher.wait_idle()
    finally:
        await dispatcher.stop()
    logged = dispatcher.log.for_task(task_id)
    assert [(a.attempt, a.status) for a in logged] == [(1, 500), (2, 500), (3, 200)]
    gaps = [b.at_ns - a.at_ns for a, b in itertools.pairwise(logged)]
    assert all(5 * NS <= gap < 1000 * NS for gap in gaps), gaps  # 5 s, not 5 wall seconds


async def test_unknown_event_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="webhook_events must be all or terminal, not 'some'"):
        create_asgi(Settings(webhook_events="some"))
