"""``@pytest.mark.piapi_mock(...)``: the Settings field names, and nothing else."""

from __future__ import annotations

import pytest

from mock_server.settings import field_names

pytest_plugins = ["pytester"]


def test_the_marker_is_registered_and_documented(user: pytest.Pytester) -> None:
    result = user.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.piapi_mock(**settings): *max_concurrent*"])
    assert all(name in result.stdout.str() for name in field_names())


def test_keywords_configure_the_fake(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import httpx
        import pytest

        def create(mock, body):
            with httpx.Client(base_url=mock.base_url, headers=mock.headers) as c:
                return c.post("/api/v1/task", json=body)

        @pytest.mark.piapi_mock(max_concurrent=1)
        def test_concurrency(piapi_mock, body):
            first = create(piapi_mock, body).json()["data"]["task_id"]
            second = create(piapi_mock, body).json()["data"]["task_id"]
            piapi_mock.advance(30)
            assert piapi_mock.task(first)["status"] == "processing"
            assert piapi_mock.task(second)["status"] == "pending"
            piapi_mock.run_until_idle()
            assert piapi_mock.task(second)["status"] == "completed"

        @pytest.mark.piapi_mock(cancel_status="cancelled", seed=9)
        class TestClassLevel:
            @pytest.mark.piapi_mock(seed=3)
            def test_closest_wins(self, piapi_mock):
                assert piapi_mock.backend.settings.seed == 3
                assert piapi_mock.backend.settings.cancel_status == "cancelled"

        def test_default(piapi_mock):
            assert piapi_mock.backend.settings.max_concurrent == 0
        """
    )
    user.runpytest().assert_outcomes(passed=3)


def test_unknown_keyword_is_a_clear_error(user: pytest.Pytester) -> None:
    user.makepyfile(
        """
        import pytest

        @pytest.mark.piapi_mock(max_concurency=1)
        def test_typo(piapi_mock):
            pass

        @pytest.mark.piapi_mock(1)
        def test_positional(piapi_server):
            pass

        @pytest.mark.piapi_mock(max_concurrent=1)
        def test_fine(piapi_mock):
            pass
        """
    )
    result = user.runpytest()
    result.assert_outcomes(errors=2, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*piapi_mock: unknown setting(s) max_concurency; known: host, port*",
            "*piapi_mock takes keywords only, got positional (1,)*",
        ]
    )


def test_the_store_keyword_picks_the_store(user: pytest.Pytester) -> None:
    """``store`` (issue 13) is a marker keyword like every setting: a SQLite file here."""
    db = user.path / "fake.db"
    user.makepyfile(
        f"""
        import pytest

        @pytest.mark.piapi_mock(store="sqlite:///{db}")
        def test_sqlite(piapi_mock, body):
            assert piapi_mock.backend.store.url == "sqlite:///{db}"
            assert piapi_mock.backend.shared

        def test_memory(piapi_mock):
            assert not piapi_mock.backend.shared
        """
    )
    user.runpytest().assert_outcomes(passed=2)
    assert db.exists()
