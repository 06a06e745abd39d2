"""In a test using ``piapi_mock``, ``requests`` reaches the in-process fake and nothing can
reach the network (issue #11: the first hour)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = """
import socket
import urllib.request

import httpx
import pytest
import requests

BODY = {"model": "kling", "task_type": "omni_video_generation",
        "input": {"prompt": "a paper boat", "version": "3.0", "duration": 5}}


def test_requests_reaches_the_fake(piapi_mock):
    url = "https://api.piapi.ai/api/v1/task"
    task = requests.post(url, json=BODY, headers={"x-api-key": "k"}, timeout=5).json()["data"]
    piapi_mock.run_until_idle()
    got = requests.get(f"{url}/{task['task_id']}", headers={"x-api-key": "k"}, timeout=5)
    assert got.json()["data"]["status"] == "completed"
    assert [c["method"] for c in piapi_mock.calls()] == ["POST", "GET"]


def test_requests_elsewhere_is_refused(piapi_mock):
    with pytest.raises(requests.ConnectionError, match="cannot reach the network"):
        requests.get("https://example.com/", timeout=5)


def test_raw_sockets_and_lookups_are_refused(piapi_mock):
    with pytest.raises(OSError, match="cannot reach the network"):
        socket.create_connection(("93.184.216.34", 80), timeout=1)
    with pytest.raises(OSError, match="cannot reach the network"):
        urllib.request.urlopen("http://example.com/", timeout=1)


def test_loopback_still_works(piapi_mock, piapi_webhooks):
    assert requests.post(piapi_webhooks.url, json={"hello": 1}, timeout=5).ok


def test_without_the_fixture_nothing_is_patched():
    assert requests.adapters.HTTPAdapter.send.__module__ == "requests.adapters"
"""


@pytest.mark.socket
def test_requests_and_sockets_under_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest("-p", "no:hypothesispytest", "-W", "error")
    result.assert_outcomes(passed=5)
