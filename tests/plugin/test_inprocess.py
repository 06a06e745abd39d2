"""``piapi_mock``: the fake in-process for httpx clients, sync and async."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_sync_httpx_client_create_advance_get(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import httpx

        def test_round_trip(piapi_mock, body):
            with httpx.Client(base_url="https://api.piapi.ai", headers={"x-api-key": "k"}) as c:
                created = c.post("/api/v1/task", json=body).json()["data"]
                assert created["status"] == "pending"
                path = f"/api/v1/task/{created['task_id']}"
                piapi_mock.advance(0.1)
                assert c.get(path).json()["data"]["status"] == "pending"
                piapi_mock.run_until_idle()
                done = c.get(path).json()["data"]
                assert done["status"] == "completed"
                video = c.get(done["output"]["video"])
                assert video.status_code == 200
                assert video.headers["content-type"] == "video/mp4"
            assert [call["method"] for call in piapi_mock.calls()] == ["POST", "GET", "GET"]
            assert piapi_mock.journal.call_count == 3
            assert piapi_mock.tasks("completed")[0]["task_id"] == created["task_id"]
        """
    )
    user.runpytest().assert_outcomes(passed=1)


def test_async_httpx_client_with_anyio_and_pytest_asyncio(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import httpx
        import pytest

        async def round_trip(piapi_mock, body):
            async with httpx.AsyncClient(
                base_url="https://api.piapi.ai", headers={"x-api-key": "k"}
            ) as c:
                task_id = (await c.post("/api/v1/task", json=body)).json()["data"]["task_id"]
                piapi_mock.run_until_idle()
                got = (await c.get(f"/api/v1/task/{task_id}")).json()["data"]
                assert got["status"] == "completed"

        @pytest.mark.anyio
        async def test_anyio(piapi_mock, body):
            await round_trip(piapi_mock, body)

        @pytest.mark.asyncio
        async def test_pytest_asyncio(piapi_mock, body):
            await round_trip(piapi_mock, body)

        @pytest.mark.anyio
        async def test_a_sync_client_inside_an_async_test(piapi_mock, body):
            with httpx.Client(base_url=piapi_mock.base_url, headers=piapi_mock.headers) as c:
                task_id = c.post("/api/v1/task", json=body).json()["data"]["task_id"]
                piapi_mock.run_until_idle()
                assert c.get(f"/api/v1/task/{task_id}").json()["data"]["status"] == "completed"
        """
    )
    user.runpytest().assert_outcomes(passed=3)


def test_each_test_gets_a_fresh_fake(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import httpx
        import pytest

        @pytest.mark.parametrize("n", [1, 2, 3])
        def test_alone(piapi_mock, body, n):
            assert piapi_mock.tasks() == []
            assert piapi_mock.calls() == []
            with httpx.Client(base_url=piapi_mock.base_url, headers=piapi_mock.headers) as c:
                for _ in range(n):
                    c.post("/api/v1/task", json=body)
            assert len(piapi_mock.tasks()) == n
        """
    )
    user.runpytest().assert_outcomes(passed=3)


def test_only_the_base_url_is_faked(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import httpx
        import pytest
        import respx

        def test_other_host_is_not_mocked(piapi_mock):
            with pytest.raises(respx.models.AllMockedAssertionError):
                httpx.get("https://example.com/")

        def test_users_own_respx_routes_still_work(piapi_mock, respx_mock, body):
            respx_mock.get("https://cdn.example.com/x").respond(204)
            assert httpx.get("https://cdn.example.com/x").status_code == 204
            headers = {"x-api-key": "k"}
            r = httpx.post("https://api.piapi.ai/api/v1/task", json=body, headers=headers)
            assert r.status_code == 200

        def test_without_the_fixture_nothing_is_intercepted(body):
            assert respx.mock.routes is not None  # respx is importable, but not started
            with pytest.raises(httpx.ConnectError):
                httpx.post("http://127.0.0.1:9/api/v1/task", json=body, timeout=1)
        """
    )
    user.runpytest().assert_outcomes(passed=3)


def test_base_url_and_settings_fixtures_can_be_overridden(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import httpx
        import pytest
        from mock_server.settings import Settings

        @pytest.fixture
        def piapi_mock_base_url():
            return "http://piapi.internal:8080"

        @pytest.fixture
        def piapi_mock_settings():
            return Settings(api_keys=("secret",))

        def test_configured(piapi_mock, body):
            assert piapi_mock.api_key == "secret"
            url = "http://piapi.internal:8080/api/v1/task"
            assert httpx.post(url, json=body, headers={"x-api-key": "nope"}).status_code == 401
            assert httpx.post(url, json=body, headers=piapi_mock.headers).status_code == 200
            with pytest.raises(Exception, match="not mocked"):
                httpx.post("https://api.piapi.ai/api/v1/task", json=body)
        """
    )
    user.runpytest().assert_outcomes(passed=1)


def test_advance_stops_at_each_transition(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import httpx

        def test_steps(piapi_mock, body):
            with httpx.Client(base_url=piapi_mock.base_url, headers=piapi_mock.headers) as c:
                task_id = c.post("/api/v1/task", json=body).json()["data"]["task_id"]
            seen = []
            for _ in range(400):
                seen.append(piapi_mock.task(task_id)["status"])
                piapi_mock.advance(1)
            assert seen[0] == "pending"
            assert "processing" in seen
            assert seen[-1] == "completed"
            assert seen == sorted(seen, key=["pending", "processing", "completed"].index)
        """
    )
    user.runpytest().assert_outcomes(passed=1)


def test_scenarios_through_rules_and_the_header(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import httpx

        def test_rule_and_header(piapi_mock, body):
            piapi_mock.add_rule("fail:content_policy", match={"prompt_contains": "forbidden"})
            with httpx.Client(base_url=piapi_mock.base_url, headers=piapi_mock.headers) as c:
                ok = c.post("/api/v1/task", json=body).json()["data"]["task_id"]
                body["input"]["prompt"] = "something forbidden"
                bad = c.post("/api/v1/task", json=body).json()["data"]["task_id"]
                body["input"]["prompt"] = "fine"
                stuck = c.post(
                    "/api/v1/task", json=body, headers={"X-Mock-Scenario": "stuck"}
                ).json()["data"]["task_id"]
            piapi_mock.run_until_idle()
            assert piapi_mock.task(ok)["status"] == "completed"
            assert piapi_mock.task(bad)["status"] == "failed"
            assert piapi_mock.task(bad)["error"]["code"] != 0
            assert piapi_mock.task(stuck)["status"] == "processing"
        """
    )
    user.runpytest().assert_outcomes(passed=1)
