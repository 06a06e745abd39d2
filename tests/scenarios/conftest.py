"""Fixtures of the scenario and fault tests."""

from __future__ import annotations

import pytest

from tests.scenarios.helpers import Sleeps


@pytest.fixture
def sleeps() -> Sleeps:
    """Latency recorded instead of waited."""
    return Sleeps()
