"""Retries on the fake's clock: a failing receiver sees attempts ``webhook_retry_delay`` apart."""

from __future__ import annotations

import itertools
import json

import httpx
import pytest

from mock_server.domain.clock import NS, ManualClock
from mock_server.settings import Settings
from mock_server.webhooks import Dispatcher
from mock_server.webhooks.receiver import Receiver
from tests.webhooks.conftest import create

pytestmark = [pytest.mark.anyio, pytest.mark.socket]

TERMINAL = Settings(webhook_events="terminal")


@pytest.mark.parametrize("settings", [TERMINAL])
async def test_500_twice_then_200_is_three_attempts_5_s_apart(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    task_id = await create(client, receiver.url, secret="k")
    receiver.fail_next = 2
    clock.advance(3600)
    first = await dispatcher.run_until_idle()
    assert [(a.attempt, a.status, a.result) for a in first] == [(1, 500, "retrying")]
    clock.advance(4.999)
    assert await dispatcher.run_until_idle() == []  # not due yet: nothing sent
    clock.advance(0.001)
    second = await dispatcher.run_until_idle()
    assert [(a.attempt, a.status, a.result) for a in second] == [(2, 500, "retrying")]
    clock.advance(5)
    third = await dispatcher.run_until_idle()
    assert [(a.attempt, a.status, a.result) for a in third] == [(3, 200, "delivered")]

    assert receiver.count == 3
    bodies = [r.body for r in receiver.received]
    assert bodies[0] == bodies[1] == bodies[2]  # same event, same timestamp: dedupable
    assert json.loads(bodies[2])["data"]["status"] == "completed"
    logged = dispatcher.log.for_task(task_id)
    assert [a.attempt for a in logged] == [1, 2, 3]
    assert [b.at_ns - a.at_ns for a, b in itertools.pairwise(logged)] == [5 * NS] * 2
    assert [a.error for a in logged] == ["HTTP 500", "HTTP 500", ""]

    response = await client.get("/_mock/webhooks", params={"task_id": task_id})
    shown = response.json()
    assert shown["count"] == 3
    assert [a["status"] for a in shown["attempts"]] == [500, 500, 200]
    assert [a["attempt"] for a in shown["attempts"]] == [1, 2, 3]
    assert shown["queued"] == 0
    clock.advance(3600)
    assert await dispatcher.run_until_idle() == []  # delivered: nothing more


@pytest.mark.parametrize("settings", [TERMINAL])
async def test_gives_up_after_the_last_attempt(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    await create(client, receiver.url)
    receiver.fail_next = 10
    clock.advance(3600)
    results = []
    for _ in range(5):
        results += [a.result for a in await dispatcher.run_until_idle()]
        clock.advance(5)
    assert results == ["retrying", "retrying", "gave_up"]
    assert receiver.count == 3


@pytest.mark.parametrize(
    "settings", [Settings(webhook_events="terminal", webhook_attempts=5, webhook_retry_delay=2)]
)
async def test_attempts_and_delay_are_settings(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    await create(client, receiver.url)
    receiver.fail_next = 10
    clock.advance(3600)
    for _ in range(10):
        await dispatcher.run_until_idle()
        clock.advance(2)
    times = [a.at_ns for a in dispatcher.log]
    assert len(times) == 5
    assert {b - a for a, b in itertools.pairwise(times)} == {2 * NS}


async def test_next_event_waits_for_the_retries_of_the_previous(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    """Events of one task arrive in order: the completed event never overtakes a retry."""
    await create(client, receiver.url)
    receiver.fail_next = 1
    clock.advance(3600)
    await dispatcher.run_until_idle()
    assert receiver.count == 1  # pending failed: processing and completed wait behind it
    clock.advance(5)
    await dispatcher.run_until_idle()
    statuses = [json.loads(r.body)["data"]["status"] for r in receiver.received]
    assert statuses == ["pending", "pending", "processing", "completed"]


@pytest.mark.parametrize("settings", [TERMINAL])
async def test_reset_clears_log_and_schedule(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    await create(client, receiver.url)
    receiver.fail_next = 1
    clock.advance(3600)
    await dispatcher.run_until_idle()
    assert len(dispatcher.log) == 1
    assert (await client.post("/_mock/reset", json={})).status_code == 200
    assert len(dispatcher.log) == 0
    assert dispatcher.pending() == 0
    clock.advance(5)
    assert await dispatcher.run_until_idle() == []
