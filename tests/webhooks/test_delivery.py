"""Real deliveries to a loopback receiver, driven by the manual clock (nothing sleeps)."""

from __future__ import annotations

import calendar
import copy
import json
import time
from typing import Any

import httpx
import pytest

from mock_server.domain.backend import Backend
from mock_server.domain.clock import ManualClock
from mock_server.domain.models import Failure
from mock_server.schema_registry import default_registry
from mock_server.settings import Settings
from mock_server.webhooks import Dispatcher
from mock_server.webhooks.receiver import Receiver
from tests.conftest import KEY
from tests.webhooks.conftest import create, get

pytestmark = [pytest.mark.anyio, pytest.mark.socket]

LONG = 3600.0  # virtual seconds: every seeded render is over by then


def seconds(iso: str) -> int:
    """Unix seconds of an RFC 3339 UTC time (fraction dropped)."""
    return calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S"))


def bodies(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.received]


def statuses(receiver: Receiver) -> list[str]:
    return [b["data"]["status"] for b in bodies(receiver)]


async def test_completed_event_has_secret_validates_and_equals_get(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    task_id = await create(client, receiver.url, secret="s3cret")
    await dispatcher.run_until_idle()
    clock.advance(LONG)
    await dispatcher.run_until_idle()

    assert statuses(receiver) == ["pending", "processing", "completed"]
    last = receiver.received[-1]
    assert last.headers["x-webhook-secret"] == "s3cret"
    assert last.headers["content-type"] == "application/json"
    body = json.loads(last.body)
    assert default_registry().errors("webhook", body) == []
    current = await get(client, task_id)
    assert body["data"] == current
    assert body["timestamp"] == seconds(current["meta"]["ended_at"])


async def test_the_schema_check_can_fail(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    """The checks above are live: a broken body is rejected and a stale GET differs."""
    task_id = await create(client, receiver.url)
    await dispatcher.run_until_idle()
    body = bodies(receiver)[0]
    broken = copy.deepcopy(body)
    broken["timestamp"] = "soon"
    del broken["data"]["status"]
    assert default_registry().errors("webhook", broken) != []
    assert seconds("1970-01-01T00:01:40.5Z") == 100
    clock.advance(LONG)
    assert body["data"] != await get(client, task_id)  # pending body vs completed task


async def test_timestamps_are_the_event_instants(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    await create(client, receiver.url)
    clock.advance(LONG)  # all three events are due at once: they still arrive in order
    await dispatcher.run_until_idle()
    pending, processing, completed = bodies(receiver)
    meta = completed["data"]["meta"]
    assert [pending["data"]["status"], processing["data"]["status"]] == ["pending", "processing"]
    assert pending["timestamp"] == seconds(meta["created_at"])
    assert processing["timestamp"] == seconds(meta["started_at"])
    assert completed["timestamp"] == seconds(meta["ended_at"])
    assert processing["data"]["meta"]["ended_at"] == "0001-01-01T00:00:00Z"
    assert processing["data"]["output"]["video"] == ""


async def test_no_secret_no_header(
    client: httpx.AsyncClient, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    await create(client, receiver.url)
    await dispatcher.run_until_idle()
    assert receiver.count == 1
    assert "x-webhook-secret" not in receiver.received[0].headers


async def test_no_endpoint_no_delivery(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher
) -> None:
    await create(client, "")
    clock.advance(LONG)
    assert await dispatcher.run_until_idle() == []
    assert dispatcher.pending() == 0


@pytest.mark.parametrize("settings", [Settings(webhook_events="terminal")])
async def test_terminal_only(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    await create(client, receiver.url)
    await dispatcher.run_until_idle()
    assert receiver.count == 0
    clock.advance(LONG)
    await dispatcher.run_until_idle()
    assert statuses(receiver) == ["completed"]


async def test_cancel_replans_pending_then_failed(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    task_id = await create(client, receiver.url)
    await dispatcher.run_until_idle()
    response = await client.delete(f"/api/v1/task/{task_id}", headers=KEY)
    assert response.status_code == 200
    clock.advance(LONG)
    await dispatcher.run_until_idle()
    assert statuses(receiver) == ["pending", "failed"]  # no processing event: it never started
    assert bodies(receiver)[-1]["data"] == await get(client, task_id)


@pytest.mark.parametrize("started", [True, False])
async def test_forced_failure_sends_failed(
    client: httpx.AsyncClient,
    backend: Backend,
    clock: ManualClock,
    dispatcher: Dispatcher,
    receiver: Receiver,
    started: bool,
) -> None:
    task_id = await create(client, receiver.url)
    record = backend.store.get(task_id)
    assert record is not None
    assert record.start_at is not None
    if started:
        clock.set(record.start_at)
    await dispatcher.run_until_idle()
    backend.fail(record, Failure(500, "boom", "upstream boom"))
    await dispatcher.run_until_idle()
    # failed the instant it would start: GET never shows processing, nor does a webhook
    expected = ["pending", "processing", "failed"] if started else ["pending", "failed"]
    assert statuses(receiver) == expected
    failed = bodies(receiver)[-1]["data"]
    assert failed["error"]["message"] == "boom"
    assert failed == await get(client, task_id)
    clock.advance(LONG)
    assert await dispatcher.run_until_idle() == []  # the original completion is gone


async def test_many_tasks_each_in_order(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    ids = [await create(client, receiver.url) for _ in range(20)]
    clock.advance(LONG)
    await dispatcher.run_until_idle()
    seen: dict[str, list[str]] = {}
    for body in bodies(receiver):
        seen.setdefault(body["data"]["task_id"], []).append(body["data"]["status"])
    assert seen == {task_id: ["pending", "processing", "completed"] for task_id in ids}
