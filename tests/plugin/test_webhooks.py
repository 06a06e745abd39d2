"""``piapi_webhooks``: a real local receiver; round trips in-process and on a port."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.socket

ROUND_TRIPS = """
import httpx
import pytest
import requests


def hooked(body, url, secret="s3cret"):
    body["config"] = {"webhook_config": {"endpoint": url, "secret": secret}}
    return body


def test_in_process(piapi_mock, piapi_webhooks, body):
    with httpx.Client(base_url=piapi_mock.base_url, headers=piapi_mock.headers) as c:
        created = c.post("/api/v1/task", json=hooked(body, piapi_webhooks.url))
    task_id = created.json()["data"]["task_id"]
    piapi_mock.run_until_idle()
    done = piapi_webhooks.wait_for(task_id, "completed", timeout=1)
    assert done.headers["x-webhook-secret"] == "s3cret"
    assert done.json["data"]["output"]["video"].endswith(".mp4")
    assert [d.task["status"] for d in piapi_webhooks.for_task(task_id)][-1] == "completed"
    assert piapi_mock.webhook_deliveries(task_id)[-1]["result"] == "delivered"


def test_on_a_port_with_a_retry(piapi_server, piapi_webhooks, body):
    piapi_webhooks.reply_with(503)
    url = piapi_server.base_url + "/api/v1/task"
    task = requests.post(url, json=hooked(body, piapi_webhooks.url), headers=piapi_server.headers)
    task_id = task.json()["data"]["task_id"]
    piapi_server.run_until_idle()
    piapi_webhooks.wait_for(task_id, "completed", timeout=5)
    statuses = [d.task["status"] for d in piapi_webhooks.deliveries]
    assert statuses[:2] == ["pending", "pending"]  # the first answer was a 503
    log = piapi_server.webhook_deliveries(task_id)
    assert [a["result"] for a in log][:2] == ["retrying", "delivered"]


def test_in_process_retries_come_at_their_virtual_instant(piapi_mock, piapi_webhooks, body):
    piapi_webhooks.reply_with(500, 500)
    with httpx.Client(base_url=piapi_mock.base_url, headers=piapi_mock.headers) as c:
        c.post("/api/v1/task", json=hooked(body, piapi_webhooks.url))
    piapi_mock.run_until_idle()
    pending = [a for a in piapi_mock.webhook_deliveries() if a["event"] == "pending"]
    assert [a["result"] for a in pending] == ["retrying", "retrying", "delivered"]
    gaps = [b["at_ns"] - a["at_ns"] for a, b in zip(pending, pending[1:])]
    assert gaps == [5_000_000_000, 5_000_000_000]  # webhook_retry_delay, on the fake's clock


def test_receivers_are_per_test(piapi_webhooks):
    assert piapi_webhooks.deliveries == []


@pytest.mark.piapi_mock(webhook_allow=("hooks.example.com",))  # offline by default
def test_other_hosts_reach_the_users_own_respx_routes(piapi_mock, respx_mock, body):
    hook = respx_mock.post("https://hooks.example.com/piapi").respond(204)
    with httpx.Client(base_url=piapi_mock.base_url, headers=piapi_mock.headers) as c:
        c.post("/api/v1/task", json=hooked(body, "https://hooks.example.com/piapi"))
    piapi_mock.run_until_idle()
    assert hook.call_count == 3  # pending, processing, completed
    assert {a["result"] for a in piapi_mock.webhook_deliveries()} == {"delivered"}
"""


def test_webhook_round_trips(user: pytest.Pytester) -> None:
    user.makepyfile(ROUND_TRIPS)
    user.runpytest().assert_outcomes(passed=5)


def test_wait_for_fails_clearly_when_nothing_comes(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import httpx

        def test_no_hook_configured(piapi_mock, piapi_webhooks, body):
            with httpx.Client(base_url=piapi_mock.base_url, headers=piapi_mock.headers) as c:
                task_id = c.post("/api/v1/task", json=body).json()["data"]["task_id"]
            piapi_mock.run_until_idle()
            piapi_webhooks.wait_for(task_id, "completed", timeout=0.05)
        """
    )
    result = user.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: no webhook for task * with status 'completed'*"])
