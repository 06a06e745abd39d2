"""``piapi_server``: the fake on a real loopback port, for clients respx cannot reach."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.socket


def test_requests_client_against_the_session_server(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import requests

        SEEN = set()

        def test_one(piapi_server, body):
            url = piapi_server.base_url + "/api/v1/task"
            task = requests.post(url, json=body, headers=piapi_server.headers).json()["data"]
            piapi_server.run_until_idle()
            got = requests.get(url + "/" + task["task_id"], headers=piapi_server.headers)
            assert got.json()["data"]["status"] == "completed"
            assert [c["method"] for c in piapi_server.calls()] == ["POST", "GET"]
            SEEN.add(piapi_server.base_url)

        def test_two_is_reset_but_same_server(piapi_server, body):
            assert piapi_server.tasks() == []
            assert piapi_server.calls() == []
            assert SEEN == {piapi_server.base_url}
            url = piapi_server.base_url + "/api/v1/task"
            task = requests.post(url, json=body, headers=piapi_server.headers).json()["data"]
            piapi_server.advance(0.1)
            assert piapi_server.task(task["task_id"])["status"] == "pending"
            piapi_server.advance(1000)
            assert piapi_server.task(task["task_id"])["status"] == "completed"
        """
    )
    user.runpytest().assert_outcomes(passed=2)


def test_a_subprocess_client(user: pytest.Pytester) -> None:
    user.makepyfile(
        '''
        import json
        import subprocess
        import sys

        CLIENT = """
        import json, sys, urllib.request
        base, body = sys.argv[1], sys.argv[2]
        req = urllib.request.Request(
            base + "/api/v1/task", data=body.encode(), method="POST",
            headers={"x-api-key": "k", "content-type": "application/json"},
        )
        print(json.load(urllib.request.urlopen(req, timeout=5))["data"]["task_id"])
        """

        def test_other_process(piapi_server, body):
            out = subprocess.run(
                [sys.executable, "-c", CLIENT, piapi_server.base_url, json.dumps(body)],
                capture_output=True, text=True, timeout=30, check=True,
            )
            task_id = out.stdout.strip()
            piapi_server.run_until_idle()
            assert piapi_server.task(task_id)["status"] == "completed"
        '''
    )
    user.runpytest().assert_outcomes(passed=1)


def test_settings_other_than_seed_get_a_dedicated_server(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import pytest
        import requests

        URLS = []

        def test_default(piapi_server):
            URLS.append(piapi_server.base_url)

        @pytest.mark.piapi_mock(seed=5)
        def test_seed_only_reuses_it(piapi_server):
            URLS.append(piapi_server.base_url)
            piapi_server.add_rule("stuck")  # forgotten by the next test's reset

        @pytest.mark.piapi_mock(api_keys=("only-this",))
        def test_keys_need_their_own(piapi_server, body):
            assert piapi_server.base_url != URLS[0]
            url = piapi_server.base_url + "/api/v1/task"
            assert requests.post(url, json=body, headers={"x-api-key": "x"}).status_code == 401
            assert requests.post(url, json=body, headers=piapi_server.headers).status_code == 200

        def test_and_back_to_the_session_server(piapi_server, body):
            assert piapi_server.base_url == URLS[0] == URLS[1]
            url = piapi_server.base_url + "/api/v1/task"
            task = requests.post(url, json=body, headers=piapi_server.headers).json()["data"]
            piapi_server.run_until_idle()
            assert piapi_server.task(task["task_id"])["status"] == "completed"  # no "stuck" rule
        """
    )
    user.runpytest().assert_outcomes(passed=4)


def test_task_ids_follow_the_seed(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import pytest
        import requests

        IDS = {}

        def create(server, body):
            url = server.base_url + "/api/v1/task"
            return requests.post(url, json=body, headers=server.headers).json()["data"]["task_id"]

        @pytest.mark.parametrize("run", [1, 2])
        @pytest.mark.parametrize("seed", [1, 2])
        def test_seeded(piapi_server, body, seed, run):
            piapi_server.reset(seed=seed)
            IDS[(seed, run)] = create(piapi_server, body)

        def test_compare():
            assert IDS[(1, 1)] == IDS[(1, 2)]
            assert IDS[(2, 1)] == IDS[(2, 2)]
            assert IDS[(1, 1)] != IDS[(2, 1)]
        """
    )
    user.runpytest().assert_outcomes(passed=5)
