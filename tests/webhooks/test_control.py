"""``/_mock/webhooks`` and ``/_mock/webhooks/redeliver``; chaos through the dispatcher."""

from __future__ import annotations

import json

import httpx
import pytest

from mock_server.domain.clock import ManualClock
from mock_server.settings import Settings
from mock_server.webhooks import Dispatcher
from mock_server.webhooks.receiver import Receiver
from tests.webhooks.conftest import create

pytestmark = [pytest.mark.anyio, pytest.mark.socket]


async def test_log_lists_every_attempt_and_filters(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    first = await create(client, receiver.url)
    second = await create(client, receiver.url)
    clock.advance(3600)
    await dispatcher.run_until_idle()
    everything = (await client.get("/_mock/webhooks")).json()
    assert everything["count"] == 6
    mine = (await client.get("/_mock/webhooks", params={"task_id": first})).json()
    assert {a["task_id"] for a in mine["attempts"]} == {first}
    assert [a["event"] for a in mine["attempts"]] == ["pending", "processing", "completed"]
    entry = mine["attempts"][-1]
    assert set(entry) >= {"event", "task_id", "url", "attempt", "at", "status", "latency_ms"}
    assert (entry["url"], entry["status"], entry["error"]) == (receiver.url, 200, "")
    done = (await client.get("/_mock/webhooks", params={"event": "completed"})).json()
    assert {a["task_id"] for a in done["attempts"]} == {first, second}
    nothing = (await client.get("/_mock/webhooks", params={"task_id": "nope"})).json()
    assert nothing == {"count": 0, "queued": 0, "attempts": []}


async def test_redeliver_sends_the_same_body_again(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    task_id = await create(client, receiver.url)
    clock.advance(3600)
    await dispatcher.run_until_idle()
    response = await client.post("/_mock/webhooks/redeliver", json={"task_id": task_id})
    assert response.status_code == 200, response.text
    assert [q["event"] for q in response.json()["queued"]] == ["completed"]
    (again,) = await dispatcher.run_until_idle()
    assert (again.event, again.redelivery, again.result) == ("completed", True, "delivered")
    assert receiver.received[-1].body == receiver.received[2].body
    response = await client.post(
        "/_mock/webhooks/redeliver", json={"task_id": task_id, "event": "pending"}
    )
    assert response.status_code == 200
    (pending,) = await dispatcher.run_until_idle()
    assert json.loads(receiver.received[-1].body)["data"]["status"] == "pending"
    assert pending.event == "pending"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({}, 400, "/task_id"),
        ({"task_id": 7}, 400, "/task_id"),
        ({"task_id": "missing"}, 404, "not found"),
        ({"task_id": "X", "event": "exploded"}, 400, "/event"),
        ({"task_id": "X", "event": ["completed"]}, 400, "/event"),
    ],
)
async def test_redeliver_rejects_bad_input_cleanly(
    client: httpx.AsyncClient, body: dict[str, object], status: int, words: str
) -> None:
    response = await client.post("/_mock/webhooks/redeliver", json=body)
    assert response.status_code == status
    assert words in response.json()["message"]


async def test_redeliver_refuses_what_cannot_be_sent(
    client: httpx.AsyncClient, clock: ManualClock, receiver: Receiver
) -> None:
    silent = await create(client, "")
    response = await client.post("/_mock/webhooks/redeliver", json={"task_id": silent})
    assert (response.status_code, response.json()["code"]) == (409, 409)
    loud = await create(client, receiver.url)
    response = await client.post(
        "/_mock/webhooks/redeliver", json={"task_id": loud, "event": "completed"}
    )
    assert response.status_code == 409
    assert "has not reached 'completed'" in response.json()["message"]
    for junk in (b"{", b"[]", b'"x"'):
        answer = await client.post("/_mock/webhooks/redeliver", content=junk)
        assert answer.status_code == 400


@pytest.mark.parametrize(
    "settings", [Settings(webhook_events="terminal", webhook_chaos_duplicate=1.0)]
)
async def test_duplicate_chaos_sends_twice(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    await create(client, receiver.url)
    clock.advance(3600)
    attempts = await dispatcher.run_until_idle()
    assert [a.chaos for a in attempts] == ["", "duplicate"]
    assert receiver.count == 2
    assert receiver.received[0].body == receiver.received[1].body


@pytest.mark.parametrize(
    "settings", [Settings(webhook_chaos_delay=1.0, webhook_chaos_max_delay=50.0)]
)
async def test_delay_chaos_holds_events_back(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    await create(client, receiver.url)
    await dispatcher.run_until_idle()
    assert receiver.count == 0  # the created event is delayed by a seeded amount
    clock.advance(3600)
    attempts = await dispatcher.run_until_idle()
    assert {a.chaos for a in attempts} == {"delayed"}
    assert receiver.count == 3
