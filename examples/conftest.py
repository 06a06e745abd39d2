"""Fixtures of the example suite: the sample client wired to the plugin's fakes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contract_tests.target import Target
from examples.piapi_client import PiapiClient


@pytest.fixture
def client(piapi_mock: Target) -> Iterator[PiapiClient]:
    """The client against the in-process fake; its sleeps move the fake's clock."""
    with PiapiClient(piapi_mock.api_key, piapi_mock.base_url, sleep=piapi_mock.advance) as c:
        yield c
