"""The sample client against the in-process fake (``piapi_mock``): no sleeping, no network."""

from __future__ import annotations

import pytest

from contract_tests.target import Target
from examples.piapi_client import PiapiClient, PiapiError, Task, TaskFailed


def test_create_then_wait_returns_the_video(client: PiapiClient, piapi_mock: Target) -> None:
    task = client.create_video("a lighthouse at dusk", duration=3)
    assert task.status == "pending"
    done = client.wait(task.task_id)
    assert done.status == "completed"
    assert done.video_url.endswith(f"/storage/videos/{task.task_id}.mp4")
    polls = [c for c in piapi_mock.calls() if c["method"] == "GET"]
    assert 2 <= len(polls) <= 60  # 5 s polls over a render of about 80 virtual seconds


def test_cancel_while_pending(client: PiapiClient, piapi_mock: Target) -> None:
    task = client.create_video("never mind")
    client.cancel(task.task_id)
    with pytest.raises(TaskFailed, match="failed: task canceled by user"):
        client.wait(task.task_id)


def test_cancel_too_late_is_an_error(client: PiapiClient, piapi_mock: Target) -> None:
    task = client.create_video("too late")
    piapi_mock.advance(30)
    assert piapi_mock.task(task.task_id)["status"] == "processing"
    with pytest.raises(PiapiError, match="only pending tasks can be canceled"):
        client.cancel(task.task_id)


def test_a_failing_render(client: PiapiClient, piapi_mock: Target) -> None:
    piapi_mock.add_rule("fail:content_policy", match={"prompt_contains": "forbidden"})
    task = client.create_video("something forbidden")
    with pytest.raises(TaskFailed) as failed:
        client.wait(task.task_id)
    assert failed.value.task.status == "failed"
    assert failed.value.task.error_message


def test_a_stuck_render_times_out_in_virtual_time(client: PiapiClient, piapi_mock: Target) -> None:
    piapi_mock.add_rule("stuck")
    task = client.create_video("forever")
    with pytest.raises(TimeoutError, match="still processing after 600"):
        client.wait(task.task_id, timeout=600)


@pytest.mark.piapi_mock(api_keys=("the-real-key",))
def test_a_wrong_key_is_refused(piapi_mock: Target) -> None:
    with PiapiClient("wrong", piapi_mock.base_url) as client, pytest.raises(PiapiError) as error:
        client.create_video("hello")
    assert error.value.status == 401


@pytest.mark.piapi_mock(credits_usd=1.0)
def test_running_out_of_credits(client: PiapiClient) -> None:
    client.create_video("first", duration=5)  # 5 s x $0.15 = $0.75
    with pytest.raises(PiapiError) as error:
        client.create_video("second", duration=5)
    assert error.value.status == 402


def test_a_client_that_ignored_failures_would_be_caught(piapi_mock: Target) -> None:
    """Honesty check: a broken wait (only ``completed`` is terminal) spins until its timeout."""

    class Broken(PiapiClient):
        def wait(self, task_id: str, timeout: float = 900.0) -> Task:
            waited = 0.0
            while (task := self.get(task_id)).status != "completed":
                if waited >= timeout:
                    raise TimeoutError(task_id)
                piapi_mock.advance(self.poll_interval)
                waited += self.poll_interval
            return task

    piapi_mock.add_rule("fail")
    with Broken(piapi_mock.api_key, piapi_mock.base_url) as broken:
        task = broken.create_video("doomed")
        with pytest.raises(TimeoutError):
            broken.wait(task.task_id, timeout=300)
