"""The plugin is tested black-box: tiny user test files run by ``pytester``.

``pytest_plugins = ["pytester"]`` sits in each test module, not here: pytest refuses it in a
conftest below the rootdir.
"""

from __future__ import annotations

import pytest

#: A strict user project: warnings are errors, markers must be registered.
USER_INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider -p no:hypothesispytest
filterwarnings = error
asyncio_default_fixture_loop_scope = function
"""

#: The user's conftest: a request body, and anyio on asyncio only.
USER_CONFTEST = """
import pytest


@pytest.fixture
def body():
    return {
        "model": "kling",
        "task_type": "omni_video_generation",
        "input": {"prompt": "a lighthouse at dusk", "version": "3.0", "duration": 3},
    }


@pytest.fixture
def anyio_backend():
    return "asyncio"
"""


@pytest.fixture
def user(pytester: pytest.Pytester) -> pytest.Pytester:
    """``pytester`` with a strict user ``pytest.ini`` and a ``body`` fixture."""
    pytester.makeini(USER_INI)
    pytester.makeconftest(USER_CONFTEST)
    return pytester
