"""Dead, slow and hostile receivers cost one bounded attempt each and show up in the log."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from mock_server.domain.clock import ManualClock
from mock_server.settings import Settings
from mock_server.webhooks import Dispatcher
from mock_server.webhooks.receiver import Receiver
from tests.conftest import KEY
from tests.webhooks.conftest import create

pytestmark = [pytest.mark.anyio, pytest.mark.socket]

QUICK = Settings(webhook_events="terminal", webhook_timeout=0.3)


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("settings", [QUICK])
async def test_hanging_receiver_times_out_and_is_retried(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    receiver.mode = "hang"
    await create(client, receiver.url)
    clock.advance(3600)
    started = time.monotonic()
    (attempt,) = await dispatcher.run_until_idle()
    assert time.monotonic() - started < 2.0
    assert attempt.status is None
    assert attempt.error == "timeout after 0.3 s"
    assert attempt.result == "retrying"
    assert dispatcher.pending() == 1


@pytest.mark.parametrize("settings", [QUICK])
async def test_ten_megabyte_answer_is_not_read(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    receiver.mode = "big"
    await create(client, receiver.url)
    clock.advance(3600)
    (attempt,) = await dispatcher.run_until_idle()
    assert (attempt.status, attempt.result, attempt.error) == (200, "delivered", "")
    assert attempt.latency_ms < 300  # well under the timeout: the body was dropped


@pytest.mark.parametrize("settings", [QUICK])
async def test_reset_connection_is_a_failed_attempt(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    receiver.mode = "reset"
    await create(client, receiver.url)
    clock.advance(3600)
    (attempt,) = await dispatcher.run_until_idle()
    assert attempt.status is None
    assert attempt.error  # e.g. "RemoteProtocolError: Server disconnected ..." or ReadError
    assert attempt.result == "retrying"
    receiver.mode = "ok"
    clock.advance(5)
    (again,) = await dispatcher.run_until_idle()
    assert (again.attempt, again.status, again.result) == (2, 200, "delivered")


@pytest.mark.parametrize("settings", [QUICK])
async def test_unreachable_endpoint_only_shows_in_the_log(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher
) -> None:
    task_id = await create(client, f"http://127.0.0.1:{closed_port()}/hook")
    clock.advance(3600)
    for _ in range(3):
        await dispatcher.run_until_idle()
        clock.advance(5)
    logged = dispatcher.log.for_task(task_id)
    assert [a.result for a in logged] == ["retrying", "retrying", "gave_up"]
    assert all(a.error.startswith("ConnectError") for a in logged)
    response = await client.get(f"/api/v1/task/{task_id}", headers=KEY)
    assert response.json()["data"]["status"] == "completed"  # the task itself is unaffected


@pytest.mark.parametrize("settings", [QUICK.replace(webhook_allow=("hooks.example.test",))])
async def test_disallowed_host_is_rejected_without_retry(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    await create(client, receiver.url)
    clock.advance(3600)
    (attempt,) = await dispatcher.run_until_idle()
    assert attempt.result == "rejected"
    assert "'127.0.0.1' is not allowed" in attempt.error
    assert "--webhook-allow hooks.example.test" in attempt.error
    assert receiver.count == 0
    clock.advance(60)
    assert await dispatcher.run_until_idle() == []


@pytest.mark.parametrize("settings", [QUICK.replace(webhook_allow=("127.0.0.1",))])
async def test_allowed_host_is_delivered(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    await create(client, receiver.url)
    clock.advance(3600)
    (attempt,) = await dispatcher.run_until_idle()
    assert attempt.result == "delivered"
    assert receiver.count == 1
