"""``piapi_contract`` with ``piapi_mock`` in one test: they compose, in either fixture order."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CLIENTS = """
import httpx
import pytest
from mock_server.polling_rules import PollPolicy

BASE = "https://api.piapi.ai"


@pytest.fixture
def piapi_poll_policy():
    return PollPolicy(min_interval=60)  # two polls in a row are too fast even on a slow machine


def sloppy(body):
    body["input"]["duration"] = "5"
    with httpx.Client(base_url=BASE, headers={"x-api-key": "k"}) as c:
        return c.post("/api/v1/task", json=body).status_code


def test_contract_first(piapi_contract, piapi_mock, body):
    assert sloppy(body) == 400
    assert piapi_mock.calls()[-1]["status"] == 400  # piapi_mock answered


def test_mock_first(piapi_mock, piapi_contract, body):
    assert sloppy(body) == 400


def test_good_client_with_both(piapi_mock, piapi_contract, body):
    with httpx.Client(base_url=BASE, headers={"x-api-key": "k"}) as c:
        task_id = c.post("/api/v1/task", json=body).json()["data"]["task_id"]
        piapi_mock.advance(1000)  # the client sleeps through the fake's clock (>= 60 s)
        assert c.get(f"/api/v1/task/{task_id}").json()["data"]["status"] == "completed"
    assert piapi_contract.violations == []


@pytest.mark.anyio
async def test_async_client_with_both(piapi_contract, piapi_mock, body):
    body["model"] = "suno"
    async with httpx.AsyncClient(base_url=BASE, headers={"x-api-key": "k"}) as c:
        assert (await c.post("/api/v1/task", json=body)).status_code == 400


def test_polling_too_fast_with_both(piapi_mock, piapi_contract, body):
    with httpx.Client(base_url=BASE, headers={"x-api-key": "k"}) as c:
        task_id = c.post("/api/v1/task", json=body).json()["data"]["task_id"]
        c.get(f"/api/v1/task/{task_id}")
        c.get(f"/api/v1/task/{task_id}")
"""


def test_both_fixtures_compose_in_either_order(user: pytest.Pytester) -> None:
    user.makepyfile(CLIENTS)
    result = user.runpytest()
    # broken contracts fail the tests themselves (issue #11), not their teardown
    result.assert_outcomes(passed=1, failed=4)
    result.stdout.fnmatch_lines(["*FAILED*test_async_client_with_both*"])
    result.stdout.fnmatch_lines(["*FAILED*test_contract_first*"])
    result.stdout.fnmatch_lines(["*FAILED*test_mock_first*"])
    result.stdout.fnmatch_lines(["*/input/duration*[[]type[]]*"])
    result.stdout.fnmatch_lines(["*[[]poll interval[]]*"])


def test_the_poll_policy_is_a_fixture(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import httpx
        import pytest
        from mock_server.polling_rules import PollPolicy

        @pytest.fixture
        def piapi_poll_policy():
            return PollPolicy(min_interval=0)

        def test_fast_but_allowed(piapi_contract, body):
            with httpx.Client(base_url="https://api.piapi.ai", headers={"x-api-key": "k"}) as c:
                task_id = c.post("/api/v1/task", json=body).json()["data"]["task_id"]
                c.get(f"/api/v1/task/{task_id}")
                c.get(f"/api/v1/task/{task_id}")
        """
    )
    user.runpytest().assert_outcomes(passed=1)


def test_with_piapi_server_it_fails_clearly(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        def test_both(piapi_server, piapi_contract):
            pass
        """
    )
    result = user.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cannot see what reaches piapi_server*"])


def test_the_webhook_probe_fixture(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import pytest
        from contract_tests.webhook_probe import WebhookHandlerError

        def test_probe(piapi_webhook_probe):
            with pytest.raises(WebhookHandlerError):
                piapi_webhook_probe.check(handler=lambda headers, body: 200)
        """
    )
    user.runpytest().assert_outcomes(passed=1)
