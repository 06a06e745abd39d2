"""Webhook checks run in-process too (the app's lifespan runs its dispatcher), and bite there.

Where they cannot run (no delivery log to see, webhooks off), the report says so.
"""

from __future__ import annotations

from typing import Any

import pytest

from contract_tests.suite import SuiteOptions, run_suite
from mock_server.webhooks import events
from tests.contract.conftest import Connect

LIFECYCLE = SuiteOptions(max_examples=20, seed=5, only=("lifecycle",))


def test_webhooks_are_checked_in_process(connect: Connect) -> None:
    report = run_suite(connect(), LIFECYCLE)
    assert report.ok, report.render()
    assert report.checks.get("webhook_matches_get", 0) > 0, report.checks
    assert report.checks.get("webhook_secret_header", 0) > 0, report.checks
    assert not [n for n in report.not_run if n.what.startswith("webhook")]


def test_a_broken_secret_header_fails_in_process(
    connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = events.headers

    def wrong_secret(target: Any) -> dict[str, str]:
        found = real(target)
        if "x-webhook-secret" in found:
            found["x-webhook-secret"] += "-forged"
        return found

    monkeypatch.setattr(events, "headers", wrong_secret)
    report = run_suite(connect(), LIFECYCLE)
    assert "webhook_secret_header: x-webhook-secret" in report.rules, report.render()


def test_without_a_delivery_log_webhook_checks_are_listed_as_not_run(connect: Connect) -> None:
    report = run_suite(connect(control=False), SuiteOptions(max_examples=5, seed=1))
    missing = {n.what: n.reason for n in report.not_run}
    assert "webhook_matches_get" in missing
    assert "no webhook" in missing["webhook_secret_header"]
