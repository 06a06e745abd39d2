"""The ``X-Mock-Scenario`` and ``X-Mock-Fault`` grammars: what parses, and clear 400s."""

from __future__ import annotations

import pytest

from mock_server.domain import faults, scenarios
from mock_server.domain.clock import to_ns
from mock_server.domain.models import NEVER
from mock_server.domain.timing import Timing

PLAN = Timing(pending_ns=to_ns(0.5), run_ns=to_ns(80))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("complete", (to_ns(0.5), to_ns(80), None)),
        ("complete-after:10", (to_ns(0.5), to_ns(10), None)),
        ("fail", (to_ns(0.5), to_ns(20), 5000)),
        ("fail:content_policy", (to_ns(0.5), to_ns(3), 1301)),
        ("fail-after:30", (to_ns(0.5), to_ns(30), 5000)),
        ("fail-after:30:upstream_timeout", (to_ns(0.5), to_ns(30), 5002)),
        ("slow", (to_ns(0.5), to_ns(240), None)),
        ("slow:2", (to_ns(0.5), to_ns(160), None)),
        ("stuck", (to_ns(0.5), NEVER, None)),
        ("pending:30", (to_ns(30), to_ns(80), None)),
        (" Pending:30 , FAIL:content_policy ", (to_ns(30), to_ns(3), 1301)),
        ("stuck,complete", (to_ns(0.5), to_ns(80), None)),
    ],
)
def test_scenario_grammar(text: str, expected: tuple[int, int, int | None]) -> None:
    pending, run, failure = scenarios.parse(text).apply(PLAN)
    assert (pending, run, failure.code if failure else None) == expected


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", "1-8 comma-separated steps"),
        ("fail,,stuck", "1-8 comma-separated steps"),
        ("explode", "unknown step 'explode'"),
        ("fail:nope", "unknown failure reason 'nope'"),
        ("fail-after:soon", "is not a number of seconds"),
        ("fail-after:-1", "seconds must be between 0"),
        ("complete-after:nan", "seconds must be between 0"),
        ("pending:1e99", "seconds must be between 0"),
        ("slow:0.5", "slow factor must be between 1 and 1000"),
        ("stuck:1", "unknown step"),
        (",".join(["stuck"] * 9), "1-8 comma-separated steps"),
    ],
)
def test_bad_scenarios_are_400s_naming_the_header_and_rule(text: str, rule: str) -> None:
    with pytest.raises(scenarios.ScenarioError) as caught:
        scenarios.parse(text)
    assert caught.value.status == 400
    assert "X-Mock-Scenario" in caught.value.message
    assert rule in caught.value.message


@pytest.mark.parametrize(
    ("text", "status", "latency", "drop", "truncate"),
    [
        ("429", 429, None, False, None),
        ("503", 503, None, False, None),
        ("latency:200", None, (200.0, 200.0), False, None),
        ("latency:100-500,502", 502, (100.0, 500.0), False, None),
        ("drop", None, None, True, None),
        ("truncate", None, None, False, -1),
        ("truncate:10", None, None, False, 10),
        ("503,drop", None, None, True, None),
    ],
)
def test_fault_grammar(
    text: str,
    status: int | None,
    latency: tuple[float, float] | None,
    drop: bool,
    truncate: int | None,
) -> None:
    fault = faults.parse(text)
    assert (fault.status, fault.latency_ms, fault.drop, fault.truncate) == (
        status,
        latency,
        drop,
        truncate,
    )


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("404", "unknown step '404'"),
        ("latency", "unknown step"),
        ("latency:fast", "not a number of milliseconds"),
        ("latency:500-100", "MIN <= MAX"),
        ("latency:1e9", "between 0 and"),
        ("truncate:-1", "byte count"),
        ("", "1-8 comma-separated"),
    ],
)
def test_bad_faults_are_400s_naming_the_header_and_rule(text: str, rule: str) -> None:
    with pytest.raises(faults.FaultError) as caught:
        faults.parse(text)
    assert caught.value.status == 400
    assert "X-Mock-Fault" in caught.value.message
    assert rule in caught.value.message


def test_rates_are_checked() -> None:
    assert scenarios.parse_rates(0.1, ("stuck=0.2",))[1][0] == 0.2
    for bad in ("stuck", "stuck=2", "nope=0.1"):
        with pytest.raises(ValueError, match="rate"):
            scenarios.parse_rates(0.0, (bad,))
    with pytest.raises(ValueError, match="sum to at most 1"):
        scenarios.parse_rates(0.6, ("stuck=0.5",))


def test_firing_once_n_times_every_nth() -> None:
    def pattern(firing: scenarios.Firing) -> str:
        return "".join("x" if firing.fire() else "." for _ in range(9))

    assert pattern(scenarios.Firing(times=1)) == "x........"
    assert pattern(scenarios.Firing(times=2)) == "xx......."
    assert pattern(scenarios.Firing(every=3)) == "..x..x..x"
    assert pattern(scenarios.Firing(every=2, times=2)) == ".x.x....."
    assert pattern(scenarios.Firing()) == "xxxxxxxxx"


def test_every_failure_reason_is_a_valid_failed_error() -> None:
    for reason in scenarios.FAILURES.values():
        assert reason.failure.code != 0
        assert reason.failure.message
        assert reason.failure.raw_message


def test_bad_settings_are_clean_value_errors() -> None:
    with pytest.raises(ValueError, match=r"^--fault-kind: unknown step 'teapot'"):
        faults.FaultBook(0, 0.1, "teapot")
    with pytest.raises(ValueError, match=r"^--scenario-rates: unknown step 'boom'"):
        scenarios.parse_rates(0.0, ("boom=0.1",))
    with pytest.raises(ValueError, match="fault rate"):
        faults.FaultBook(0, 1.5, "503")
