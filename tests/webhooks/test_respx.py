"""With respx mocking httpx globally (the pytest plugin does), loopback receivers must be passed
through: this is the recipe the plugin follows, and what happens without it."""

from __future__ import annotations

import httpx
import pytest
import respx

from mock_server.domain.clock import ManualClock
from mock_server.settings import Settings
from mock_server.webhooks import Dispatcher
from mock_server.webhooks.receiver import Receiver
from tests.webhooks.conftest import create

pytestmark = [pytest.mark.anyio, pytest.mark.socket]
TERMINAL = Settings(webhook_events="terminal")


@pytest.mark.parametrize("settings", [TERMINAL])
async def test_loopback_passes_through_a_respx_mock(
    client: httpx.AsyncClient, clock: ManualClock, dispatcher: Dispatcher, receiver: Receiver
) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.route(host="api.piapi.ai").respond(418)
        router.route(host="127.0.0.1").pass_through()
        await create(client, receiver.url)
        clock.advance(3600)
        (attempt,) = await dispatcher.run_until_idle()
    assert (attempt.status, attempt.result) == (200, "delivered")
    assert receiver.count == 1


@pytest.mark.parametrize("settings", [TERMINAL])
async def test_without_pass_through_the_attempt_fails_clearly(
    client: httpx.AsyncClient,
    clock: ManualClock,
    dispatcher: Dispatcher,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.route(host="api.piapi.ai").respond(418)
        await create(client, receiver.url)
        clock.advance(3600)
        (attempt,) = await dispatcher.run_until_idle()
    assert attempt.result == "rejected"
    assert "AllMockedAssertionError" in attempt.error
    assert receiver.count == 0
    assert "failed unexpectedly" in caplog.text
