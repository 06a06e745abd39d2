"""Hypothesis settings for the kit's own tests and for users' CI: modest and repeatable."""

from __future__ import annotations

from typing import Final

from hypothesis import HealthCheck, settings

#: Few examples, derandomized, no example database: stable and quick on 2 cores.
TESTS: Final = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("piapi-contract-tests", TESTS)
