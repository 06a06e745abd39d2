"""Live mode (``--piapi-base-url``) and pytest-xdist, each in a subprocess of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contract_tests.server import ServerThread
from mock_server.settings import Settings

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.socket

SAME_TESTS = """
import httpx
import requests


def test_in_process_client(piapi_mock, body):
    with httpx.Client(base_url=piapi_mock.base_url, headers=piapi_mock.headers) as c:
        created = c.post("/api/v1/task", json=body)
    assert created.status_code == 200


def test_requests_client(piapi_server, body):
    url = piapi_server.base_url + "/api/v1/task"
    assert requests.post(url, json=body, headers=piapi_server.headers).status_code == 200


def test_needs_the_clock(piapi_mock, body):
    piapi_mock.advance(10)
    assert piapi_mock.tasks() == []


def test_needs_the_server_control_plane(piapi_server):
    assert piapi_server.calls() == []
"""


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[ServerThread]:
    thread = ServerThread()
    yield thread
    thread.close()


def test_without_live_mode_everything_runs(user: pytest.Pytester) -> None:
    user.makepyfile(SAME_TESTS)
    user.runpytest().assert_outcomes(passed=4)


def test_live_mode_against_a_served_fake_uses_its_control_plane(
    user: pytest.Pytester, shared_fake: ServerThread
) -> None:
    user.makepyfile(SAME_TESTS)
    result = user.runpytest_subprocess(f"--piapi-base-url={shared_fake.base_url}", "-rs")
    result.assert_outcomes(passed=4)  # the clock and the journal over /_mock (issue #11)


def test_live_mode_option_runs_against_another_server(user: pytest.Pytester) -> None:
    thread = ServerThread(Settings(control=False))  # no /_mock: like the real PiAPI
    try:
        user.makepyfile(SAME_TESTS)
        result = user.runpytest_subprocess(f"--piapi-base-url={thread.base_url}", "-rs")
        result.assert_outcomes(passed=2, skipped=2)
        result.stdout.fnmatch_lines(["*needs the piapi-mock control plane*is live*"])
        assert len(thread.backend.store) == 2
    finally:
        thread.close()


def test_live_mode_skips_a_settings_marker_it_cannot_honour(
    user: pytest.Pytester, shared_fake: ServerThread
) -> None:
    user.makepyfile(
        """
        import pytest

        @pytest.mark.piapi_mock(max_concurrent=1)
        def test_marked(piapi_mock):
            pass
        """
    )
    result = user.runpytest_subprocess(f"--piapi-base-url={shared_fake.base_url}", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*settings markers need the in-process fake*"])


def test_live_mode_from_the_environment(
    user: pytest.Pytester, shared_fake: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIAPI_MOCK_BASE_URL", shared_fake.base_url)
    user.makepyfile(SAME_TESTS)
    user.runpytest_subprocess().assert_outcomes(passed=4)


def test_xdist_workers_are_isolated(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import httpx
        import pytest
        import requests

        @pytest.mark.parametrize("n", range(8))
        def test_isolated(piapi_mock, piapi_server, piapi_webhooks, body, n):
            body["config"] = {"webhook_config": {"endpoint": piapi_webhooks.url}}
            with httpx.Client(base_url=piapi_mock.base_url, headers=piapi_mock.headers) as c:
                mine = c.post("/api/v1/task", json=body).json()["data"]["task_id"]
            url = piapi_server.base_url + "/api/v1/task"
            requests.post(url, json=body, headers=piapi_server.headers)
            assert [t["task_id"] for t in piapi_mock.tasks()] == [mine]
            assert len(piapi_server.tasks()) == 1
            piapi_mock.run_until_idle()
            piapi_webhooks.wait_for(mine, "completed", timeout=5)
        """
    )
    result = user.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=8)
