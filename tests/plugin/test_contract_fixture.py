"""``piapi_contract``: the contract kit's client-side router as a fixture."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_a_client_breaking_the_contract_fails_and_a_good_one_passes(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import httpx

        def test_good_client(piapi_contract, body):
            headers = {"x-api-key": "k"}
            with httpx.Client(base_url="https://api.piapi.ai", headers=headers) as c:
                task_id = c.post("/api/v1/task", json=body).json()["data"]["task_id"]
                assert c.get(f"/api/v1/task/{task_id}").json()["data"]["status"] == "pending"
                piapi_contract.advance(1000)
                assert c.get(f"/api/v1/task/{task_id}").json()["data"]["status"] == "completed"
            assert piapi_contract.violations == []

        def test_sloppy_client(piapi_contract, body):
            body["input"]["duration"] = "5"  # a string: PiAPI's Go decoder refuses it
            with httpx.Client(base_url="https://api.piapi.ai") as c:  # and no key
                c.post("/api/v1/task", json=body)
        """
    )
    result = user.runpytest()
    # a test failure listing the violations (issue #11), not a teardown ERROR with a traceback
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the client broke the PiAPI contract:*",
            "*POST /api/v1/task: /headers/x-api-key:*",
            "*POST /api/v1/task: /input/duration:*",
        ]
    )
    assert "ERROR at teardown" not in result.stdout.str()
    assert "plugin.py" not in result.stdout.str()
