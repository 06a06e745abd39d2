"""Webhooks are offline by default and never drive the fake itself (issue #11: 6, 7)."""

from __future__ import annotations

import logging

import httpx
import pytest

from mock_server.domain.clock import ManualClock
from mock_server.settings import Settings
from mock_server.webhooks import Dispatcher
from mock_server.webhooks.policy import AllowList, parse_entry
from mock_server.webhooks.receiver import Receiver
from tests.conftest import KEY, seed_request
from tests.webhooks.conftest import create

SELF = {("127.0.0.1", 8000)}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/h",
        "http://localhost:9000/h",
        "http://[::1]:9000/h",
        "http://10.1.2.3/h",
        "http://192.168.1.20:8080/h",
        "http://172.20.0.5/h",
        "http://[fd00::1]/h",
    ],
)
def test_loopback_and_private_are_allowed_by_default(url: str) -> None:
    assert AllowList().refusal(url, SELF) == ""


@pytest.mark.parametrize(
    "url",
    [
        "https://webhook.site/5468eca8-1cad-4dd3-9799-b6fbd9770fda",
        "http://8.8.8.8/h",
        "http://hooks.internal/h",  # names are not resolved: a DNS query already leaves
        "http://[2606:4700::1111]/h",
    ],
)
def test_other_hosts_are_refused_with_the_flag_that_allows_them(url: str) -> None:
    found = AllowList().refusal(url, SELF)
    assert "outside loopback and private networks" in found
    assert "--webhook-allow" in found


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/_mock/reset",
        "http://localhost:8000/_mock/reset",
        "http://[::1]:8000/_mock/reset",
        "http://0.0.0.0:8000/_mock/reset",
        "http://127.0.0.2:8000/_mock/reset",
        "http://LOCALHOST:8000/_mock/tasks/x/fail",
    ],
)
def test_the_fakes_own_address_is_refused_under_any_alias(url: str) -> None:
    for allow in [(), ("127.0.0.1",), ("localhost", "127.0.0.1", "::1", "*")]:
        assert "this fake's own address" in AllowList(allow).refusal(url, SELF), (url, allow)


def test_a_wildcard_bound_fake_refuses_its_private_addresses() -> None:
    bound = {("0.0.0.0", 8000)}
    assert "own address" in AllowList().refusal("http://192.168.1.5:8000/_mock/reset", bound)
    assert AllowList().refusal("http://192.168.1.5:8001/h", bound) == ""


def test_only_an_entry_with_host_and_port_allows_the_fake_itself() -> None:
    allow = AllowList(("127.0.0.1:8000",))
    assert allow.refusal("http://127.0.0.1:8000/h", SELF) == ""
    assert "own address" in allow.refusal("http://localhost:8000/h", SELF)


def test_the_check_catches_a_policy_that_ignores_ports() -> None:
    class PortBlind(AllowList):
        @staticmethod
        def _is_self(host: str, port: int, listening: object) -> bool:
            return False

    assert PortBlind().refusal("http://127.0.0.1:8000/_mock/reset", SELF) == ""


@pytest.mark.parametrize(
    ("entry", "url", "allowed"),
    [
        ("hooks.example.com", "https://hooks.example.com/x", True),
        ("hooks.example.com:8443", "https://hooks.example.com:8443/x", True),
        ("hooks.example.com:8443", "https://hooks.example.com/x", False),
        ("127.0.0.1:9000", "http://127.0.0.1:9001/x", False),
        ("[::1]:9000", "http://[::1]:9000/x", True),
        ("::1", "http://[::1]:9000/x", True),
        ("*", "https://anywhere.example/x", True),
    ],
)
def test_entries_take_host_and_port(entry: str, url: str, allowed: bool) -> None:
    assert (AllowList((entry,)).refusal(url, SELF) == "") is allowed


@pytest.mark.parametrize("entry", ["", "host:0", "host:99999", "host:x", ":80", "host:²"])
def test_bad_entries_are_refused_at_startup(entry: str) -> None:
    with pytest.raises(ValueError, match="--webhook-allow"):
        parse_entry(entry)


@pytest.mark.anyio
async def test_the_seed_webhook_is_rejected_and_logged_not_contacted(
    client: httpx.AsyncClient,
    clock: ManualClock,
    dispatcher: Dispatcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "piapi_mock.webhooks")
    created = await client.post("/api/v1/task", json=seed_request(), headers=KEY)
    task_id = created.json()["data"]["task_id"]
    clock.advance(3600)
    attempts = await dispatcher.run_until_idle()
    assert {a.result for a in attempts} == {"rejected"}
    assert all(a.status is None and a.latency_ms == 0.0 for a in attempts)
    assert "--webhook-allow webhook.site" in attempts[0].error
    assert [a.task_id for a in attempts] == [task_id] * len(attempts)
    warnings = [r.getMessage() for r in caplog.records if "webhook.site" in r.getMessage()]
    assert len(warnings) == 1, warnings  # once per host, not once per event


@pytest.mark.anyio
@pytest.mark.socket
@pytest.mark.parametrize("settings", [Settings(webhook_events="terminal")])
async def test_a_webhook_to_the_fakes_own_port_is_refused(
    client: httpx.AsyncClient,
    clock: ManualClock,
    dispatcher: Dispatcher,
    receiver: Receiver,
) -> None:
    dispatcher.backend.listening.add(("127.0.0.1", receiver.port))  # as if the fake were there
    await create(client, f"http://localhost:{receiver.port}/_mock/reset")
    clock.advance(3600)
    (attempt,) = await dispatcher.run_until_idle()
    assert attempt.result == "rejected"
    assert "own address" in attempt.error
    assert receiver.count == 0
