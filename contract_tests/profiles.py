"""Hypothesis settings for the kit's own tests and for users' CI: modest and repeatable."""

from __future__ import annotations

from typing import Final

from hypothesis import HealthCheck, Phase, settings

#: Few examples, derandomized, no example database: stable and quick on 2 cores. No explain
#: phase: on a failing drawn test it replays the example hundreds of times (minutes), to
#: annotate lines a drawn answer already names.
TESTS: Final = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
settings.register_profile("piapi-contract-tests", TESTS)
#: For users' CI: no shrinking either, so a broken client fails in seconds, not minutes (a
#: drawn run is large and its shrinking takes a minute or more on a busy machine). The
#: example shown is the first failing one, not the smallest: rerun with ``TESTS`` to shrink.
CI: Final = settings(TESTS, phases=[Phase.explicit, Phase.reuse, Phase.generate])
settings.register_profile("piapi-contract-ci", CI)
