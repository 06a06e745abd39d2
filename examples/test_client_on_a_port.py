"""The sample client against the fake on a real port (``piapi_server``) and a webhook round trip."""

from __future__ import annotations

import pytest
import requests

from contract_tests.receiver import WebhookReceiver
from contract_tests.target import Target
from examples.piapi_client import PiapiClient, Task

pytestmark = pytest.mark.socket


def test_polling_over_a_real_socket(piapi_server: Target) -> None:
    with PiapiClient(
        piapi_server.api_key, piapi_server.base_url, sleep=piapi_server.advance
    ) as client:
        task = client.create_video("a paper boat", duration=5)
        assert client.wait(task.task_id).status == "completed"


def test_the_video_link_downloads(piapi_server: Target) -> None:
    with PiapiClient(piapi_server.api_key, piapi_server.base_url) as client:
        task = client.create_video("a paper boat")
        piapi_server.run_until_idle()
        video = requests.get(client.get(task.task_id).video_url, timeout=5)
    assert video.status_code == 200
    assert video.content[4:8] == b"ftyp"  # an MP4


def test_webhook_instead_of_polling(piapi_server: Target, piapi_webhooks: WebhookReceiver) -> None:
    with PiapiClient(piapi_server.api_key, piapi_server.base_url) as client:
        task = client.create_video(
            "a paper boat", webhook_url=piapi_webhooks.url, webhook_secret="s3cret"
        )
    piapi_server.run_until_idle()
    delivery = piapi_webhooks.wait_for(task.task_id, "completed", timeout=5)
    assert delivery.headers["x-webhook-secret"] == "s3cret"
    assert Task.from_data(delivery.json["data"]).video_url.endswith(".mp4")
