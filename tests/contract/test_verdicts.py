"""Verdicts against reference servers: drift, could not judge, spend, reports, preflight.

* a lenient server (documented rules only, vague messages) passes, its guesses listed as drift;
* a server answering 429 to what it should refuse fails ("could not judge");
* without a budget and without the control plane, nothing billable is created;
* a budget is never exceeded, and a small one ends phases cleanly;
* the JUnit and JSON reports parse; a refused key stops the run at once.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.asgi import asgi_client
from contract_tests.endpoint import Endpoint, Retry
from contract_tests.junit import write_json, write_junit
from contract_tests.suite import KeyRefused, SuiteOptions, SuiteReport, run_suite
from mock_server.domain.backend import Backend, manual_backend
from mock_server.settings import Settings
from mock_server.web.app import create_asgi
from tests.contract.references import lenient, throttling_invalid, vague_messages

Wrap = Callable[[Any], Any]
Reference = Callable[..., tuple[Endpoint, Backend]]
FREE = ("auth", "unknown_ids", "invalid_requests", "junk_bodies")


@pytest.fixture
def reference() -> Iterator[Reference]:
    """``reference(wrap=None, **settings)``: (endpoint, backend) of a wrapped fake."""
    clients: list[httpx.Client] = []

    def make(wrap: Wrap | None = None, **changes: Any) -> tuple[Endpoint, Backend]:
        backend, _clock = manual_backend(Settings().replace(**changes))
        app = create_asgi(backend=backend)
        client = asgi_client(wrap(app) if wrap else app)
        clients.append(client)
        waits: list[float] = []
        return Endpoint(client, "ref-key", retry=Retry(sleep=waits.append)), backend

    yield make
    for client in clients:
        client.close()


def suite(endpoint: Endpoint, **options: Any) -> SuiteReport:
    return run_suite(endpoint, SuiteOptions(**{"max_examples": 40, "seed": 11, **options}))


def test_a_lenient_server_passes_with_our_guesses_as_drift(reference: Reference) -> None:
    endpoint, _ = reference(lenient)
    report = suite(endpoint)
    assert report.ok, report.render()
    assert report.exit_code == 0
    drifted = {(d.check, d.pointer) for d in report.drift}
    assert ("invalid_rejected", "/input/prompt") in drifted, report.render()
    assert ("invalid_rejected", "/input/images/0") in drifted
    assert ("invalid_rejected", "/config/service_mode") in drifted
    assert ("invalid_rejected", "/config/webhook_config/endpoint") in drifted
    assert "error_names_field" in {d.check for d in report.drift}
    first = next(d for d in report.drift if d.pointer == "/input/prompt")
    assert first.reason
    assert first.evidence
    assert "schemas/" in first.fix
    assert "drift (guessed rules" in report.render()


def test_the_fake_with_documented_strictness_passes_with_drift(reference: Reference) -> None:
    """The fake's own lenient mode (``--strictness documented``) is a plausible real PiAPI."""
    endpoint, backend = reference(vague_messages, strictness="documented")
    report = suite(endpoint)
    assert report.ok, report.render()
    drifted = {(d.check, d.pointer) for d in report.drift}
    assert ("invalid_rejected", "/input/prompt") in drifted, report.render()
    assert ("invalid_rejected", "/config/service_mode") in drifted
    assert ("invalid_rejected", "/input/images/0") in drifted
    assert all(c.cancelled for c in report.charges if c.phase == "invalid_requests")
    del backend


def test_strict_guesses_fail_the_same_run(reference: Reference) -> None:
    endpoint, _ = reference(lenient)
    report = suite(endpoint, strict_guesses=True, only=("invalid_requests",))
    assert report.drift
    assert not report.findings
    assert report.exit_code == 1


def test_the_plain_fake_has_no_drift(reference: Reference) -> None:
    endpoint, _ = reference()
    report = suite(endpoint, only=FREE)
    assert report.ok, report.render()
    assert report.drift == [], report.render()


def test_error_names_field_is_judged_on_refusals_only(reference: Reference) -> None:
    """Turning ``invalid_rejected`` off leaves nothing failing on an accepted request."""
    endpoint, _ = reference(lenient)
    report = suite(endpoint, only=("invalid_requests",), skip=("invalid_rejected",))
    assert report.findings == [], report.render()
    assert all("HTTP 200" not in d.evidence for d in report.drift if d.check == "error_names_field")


def test_a_server_answering_429_to_invalid_requests_fails(reference: Reference) -> None:
    endpoint, _backend = reference(throttling_invalid)
    report = suite(endpoint, only=("invalid_requests", "junk_bodies"))
    assert not report.ok
    assert report.exit_code == 1
    judged = {(u.phase, u.check) for u in report.unjudged}
    assert ("invalid_requests", "invalid_rejected") in judged, report.render()
    assert all(u.count >= 1 for u in report.unjudged)
    assert "could not judge" in report.render()
    assert endpoint.retry.waited > 0, "the kit waited Retry-After before judging"


def test_retries_honour_retry_after_within_bounds(reference: Reference) -> None:
    endpoint, _ = reference(throttling_invalid)
    waits: list[float] = []
    endpoint.retry = Retry(attempts=4, max_wait=0.5, total_wait=1.0, sleep=waits.append)
    exchange = endpoint.create({"model": "suno"})
    assert exchange.status == 429
    assert exchange.retry_after == "1"
    assert waits == [0.5, 0.5], "each wait capped at max_wait, all of them at total_wait"
    assert exchange.attempts == 3


def test_without_a_budget_nothing_billable_is_created(reference: Reference) -> None:
    """Against a lenient server without the control plane: guessed mutations are not sent."""
    endpoint, backend = reference(lenient, control=False)
    report = suite(endpoint)
    assert len(backend.store) == 0, [r.task_id for r in backend.records()]
    assert report.charges == []
    assert report.spent_usd == 0
    assert report.ok, report.render()
    reasons = " ".join(n.reason for n in report.not_run)
    assert "needs --allow-spend-usd" in reasons
    assert {"valid_requests", "lifecycle"} <= {n.phase for n in report.not_run}


def test_a_wrongly_accepted_free_request_is_reported_and_cancelled(reference: Reference) -> None:
    def accepts_everything(app: Any) -> Any:
        from tests.contract.references import PLAIN_INPUT, rewriting

        del rewriting
        inner = lenient(app)

        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["method"] == "POST":
                body = {"model": "kling", "task_type": "omni_video_generation"}
                raw = json.dumps({**body, "input": PLAIN_INPUT}).encode()
                headers = [h for h in scope["headers"] if h[0] != b"x-api-key"]
                scope = {**scope, "headers": [*headers, (b"x-api-key", b"ref-key")]}

                async def replay() -> Any:
                    return {"type": "http.request", "body": raw, "more_body": False}

                await inner(scope, replay, send)
                return
            await inner(scope, receive, send)

        return wrapped

    endpoint, backend = reference(accepts_everything, control=False)
    report = suite(endpoint, only=("auth",), max_examples=5)
    assert len(report.charges) == len(backend.store) > 0
    assert all(c.cancelled for c in report.charges)
    assert report.spent_usd == 0
    assert "auth_required: key required" in report.rules


@pytest.mark.parametrize("budget", ["0.2", "1", "3"])
def test_a_budget_is_never_exceeded(reference: Reference, budget: str) -> None:
    endpoint, backend = reference(lenient, control=False)
    limit = Decimal(budget)
    report = suite(endpoint, allow_spend_usd=limit, wait_budget=0, max_examples=30)
    assert report.spent_usd <= limit
    billed = sum((c.usd for c in report.charges if not c.cancelled), Decimal(0))
    assert billed == report.spent_usd <= limit
    assert len(report.charges) == len(backend.store)
    assert not [f for f in report.findings if f.failure is None], report.render()
    assert report.ok, report.render()


def test_a_small_budget_ends_phases_as_the_kit_s_condition(reference: Reference) -> None:
    endpoint, _ = reference(control=False)
    report = suite(endpoint, allow_spend_usd=Decimal("0.2"), wait_budget=0)
    assert report.findings == [], report.render()
    assert report.ok, report.render()
    assert report.spent_usd <= Decimal("0.2")
    assert any("budget" in n.reason for n in report.not_run), report.render()


def test_a_refused_key_stops_at_once(reference: Reference) -> None:
    endpoint, backend = reference(api_keys=("the-right-key",))
    with pytest.raises(KeyRefused, match="refused the API key"):
        suite(endpoint)
    assert backend.journal.call_count == 1


def test_one_root_cause_is_reported_once_with_a_count(reference: Reference) -> None:
    from tests.contract.references import rewriting

    def no_code(scope: dict[str, Any], request: bytes, document: Any) -> Any:
        if isinstance(document, dict) and document.get("code") != 200:
            document["code"] = 0
        return document

    endpoint, _ = reference(lambda app: rewriting(app, no_code))
    report = suite(endpoint, only=FREE)
    keys = [f.key for f in report.findings]
    assert len(keys) == len(set(keys)), "one entry per root cause"
    top = next(f for f in report.findings if f.check == "code_matches_status")
    assert top.count > 1, report.render()
    assert len(set(top.phases)) > 1, report.render()
    assert "one root cause" in report.render()


def test_reports_parse(reference: Reference, tmp_path: Path) -> None:
    endpoint, _ = reference(lenient)
    report = suite(endpoint, max_examples=20)
    write_junit(report, tmp_path / "r.xml")
    write_json(report, tmp_path / "r.json")
    root = ET.parse(tmp_path / "r.xml").getroot()
    cases = root.findall(".//testcase")
    names = {(c.get("classname"), c.get("name")) for c in cases}
    assert ("piapi-contract.invalid_requests", "invalid_rejected") in names
    assert ("piapi-contract.valid_requests", "frozen_is_price") in names
    assert any(c.find("system-out") is not None for c in cases), "drift is noted"
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["ok"] is True
    assert data["exit_code"] == 0
    assert data["seed"] == 11
    assert data["drift"]
    assert data["violations"] == []
    assert {"python", "hypothesis", "piapi-mock"} <= set(data["versions"])
    assert {"budget_usd", "spent_usd", "tasks"} <= set(data["spend"])
    assert isinstance(data["not_run"], list)


def test_a_failing_run_reports_failures_in_junit(reference: Reference, tmp_path: Path) -> None:
    endpoint, _ = reference(throttling_invalid)
    report = suite(endpoint, only=("invalid_requests",), max_examples=10)
    write_junit(report, tmp_path / "r.xml")
    root = ET.parse(tmp_path / "r.xml").getroot()
    assert root.findall(".//error[@type='could-not-judge']")


def test_progress_is_told_per_phase(reference: Reference) -> None:
    endpoint, _ = reference()
    lines: list[str] = []
    suite(endpoint, only=("auth", "unknown_ids"), progress=lines.append, max_examples=5)
    assert lines[0] == "auth: started"
    assert any(line.startswith("auth: ") and "examples" in line for line in lines)
    assert lines[-1].startswith("unknown_ids: ")
    assert lines[-1].endswith("ok")
