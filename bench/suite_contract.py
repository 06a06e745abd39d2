"""The whole contract suite against the in-process fake, default example count (issue 6).

Target: under 60 s on the 2-core machine. Prints the wall time, the examples and requests per
second, each phase, and (as the same-run baseline) how long Hypothesis alone takes to draw the
same number of create requests, so the ratio shows what HTTP and the checks cost on top.
``PIAPI_BENCH_CONTRACT_EXAMPLES`` overrides the example count, ``PIAPI_BENCH_SEED`` the seed.
"""

from __future__ import annotations

import os
import time
from typing import Any, Final

from hypothesis import HealthCheck, given, seed, settings

from contract_tests.asgi import asgi_client
from contract_tests.endpoint import Endpoint
from contract_tests.strategies import valid_requests
from contract_tests.suite import DEFAULT_EXAMPLES, SuiteOptions, run_suite
from mock_server.domain.backend import manual_backend
from mock_server.web.app import create_asgi

TARGET_SECONDS: Final = 60.0


def _draw_only(examples: int, chosen_seed: int) -> float:
    """Seconds Hypothesis needs to draw ``examples`` create requests and do nothing else."""

    @seed(chosen_seed)
    @settings(
        max_examples=examples, database=None, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(valid_requests())
    def draw(body: Any) -> None:
        pass

    started = time.perf_counter()
    draw()
    return time.perf_counter() - started


def run() -> None:
    """Run the suite once and print the figures."""
    examples = int(os.environ.get("PIAPI_BENCH_CONTRACT_EXAMPLES", DEFAULT_EXAMPLES))
    chosen_seed = int(os.environ.get("PIAPI_BENCH_SEED", "0"))
    backend, _clock = manual_backend()
    with asgi_client(create_asgi(backend=backend)) as client:
        started = time.perf_counter()
        report = run_suite(Endpoint(client, "bench-key"), SuiteOptions(examples, chosen_seed))
        seconds = time.perf_counter() - started
    requests = backend.journal.call_count
    baseline = _draw_only(report.examples, chosen_seed)
    verdict = "ok" if seconds < TARGET_SECONDS else "OVER TARGET"
    print(f"contract suite, {examples} examples per phase, seed {chosen_seed}")
    for phase in report.phases:
        rate = phase.examples / phase.seconds if phase.seconds else 0.0
        print(
            f"  {phase.name:<17}{phase.examples:>6} examples {phase.seconds:>6.1f} s {rate:>7.0f}/s"
        )
    print(
        f"  total {seconds:.1f} s (target < {TARGET_SECONDS:.0f} s: {verdict}); "
        f"{report.examples} examples = {report.examples / seconds:.0f} examples/s; "
        f"{requests} API requests = {requests / seconds:.0f}/s; "
        f"{sum(report.checks.values())} checks"
    )
    print(
        f"  baseline: drawing {report.examples} requests alone takes {baseline:.2f} s; "
        f"the suite is {seconds / baseline:.1f}x that"
    )
    print("  contract: " + ("no violation" if report.ok else f"{len(report.findings)} VIOLATIONS"))
