"""``piapi-mock contract`` end to end: against ``piapi-mock serve`` on a loopback port.

The served fake runs its webhook dispatcher, so the suite's webhook rule runs too (the kit's
loopback sink receives the deliveries). Waits are bounded; the clock moves by the control plane.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from contract_tests.endpoint import Endpoint
from contract_tests.suite import SuiteOptions, run_suite
from mock_server.cli import main
from mock_server.ports import free_port


def serve() -> Iterator[str]:
    """``piapi-mock serve`` on a free loopback port, stopped afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "mock_server.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/_mock/health", timeout=0.5)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    yield from serve()


@pytest.fixture
def fresh_server() -> Iterator[str]:
    """A server of its own (no deliveries left over from another test's receiver)."""
    yield from serve()


@pytest.mark.socket
def test_contract_passes_against_serve(served: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["contract", "--base-url", served, "--max-examples", "15", "--seed", "3"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "OK: no contract violation" in out
    assert "(control plane, seed 3)" in out


@pytest.mark.socket
def test_webhooks_are_checked_against_serve(fresh_server: str) -> None:
    with httpx.Client(base_url=fresh_server, timeout=10) as client:
        endpoint = Endpoint(client, "hooks-key")
        options = SuiteOptions(max_examples=25, seed=5, only=("lifecycle",))
        report = run_suite(endpoint, options)
    assert report.ok, report.render()
    assert report.checks.get("webhook_matches_get", 0) > 0, report.checks
    assert report.checks.get("webhook_secret_header", 0) > 0, report.checks


def test_free_checks_only_without_a_control_plane() -> None:
    """A target without ``/_mock`` gets only the free phases (nothing is created)."""
    from contract_tests.asgi import asgi_client
    from mock_server.domain.backend import manual_backend
    from mock_server.settings import Settings
    from mock_server.web.app import create_asgi

    backend, _ = manual_backend(Settings(control=False))
    with asgi_client(create_asgi(backend=backend)) as client:
        report = run_suite(Endpoint(client, "live-key"), SuiteOptions(max_examples=10, seed=1))
    assert report.ok, report.render()
    assert len(backend.store) == 0
    skipped = {p.name for p in report.phases if p.note.startswith("skipped")}
    assert skipped == {"valid_requests", "lifecycle"}


def test_a_spend_budget_creates_tasks_within_it() -> None:
    from decimal import Decimal

    from contract_tests.asgi import asgi_client
    from mock_server.domain.backend import manual_backend
    from mock_server.settings import Settings
    from mock_server.web.app import create_asgi

    backend, _ = manual_backend(Settings(control=False))
    budget = Decimal("3")
    options = SuiteOptions(
        max_examples=10, seed=1, allow_spend_usd=budget, wait_budget=0, only=("valid_requests",)
    )
    with asgi_client(create_asgi(backend=backend)) as client:
        report = run_suite(Endpoint(client, "live-key"), options)
    assert len(backend.store) == len(report.charges) > 0, "every task created is reported"
    assert all(c.cancelled for c in report.charges), "valid_requests cancels what it creates"
    assert report.spent_usd == 0 <= budget


def test_list_checks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contract", "--list-checks"]) == 0
    out = capsys.readouterr().out
    assert "frozen_is_price" in out
    assert "webhook_matches_get" in out


def test_unreachable_server_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["contract", "--base-url", url, "--max-examples", "2"]) == 2
    assert "cannot reach" in capsys.readouterr().err


def test_unknown_phase_or_check_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    for flags in (["--phase", "nope"], ["--skip-check", "nope"]):
        with pytest.raises(SystemExit) as exited:
            main(["contract", "--base-url", "http://127.0.0.1:9", *flags])
        assert exited.value.code == 2
        assert "unknown" in capsys.readouterr().err


@pytest.mark.socket
def test_progress_arrives_while_running_even_when_piped(served: str) -> None:
    """stderr is line-buffered: the first phase is announced long before the run ends."""
    command = [sys.executable, "-m", "mock_server.cli", "contract", "--base-url", served]
    command += ["--max-examples", "30", "--seed", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert first.strip() == "piapi-mock contract: auth: started"
        assert process.poll() is None, "the line came while the suite was still running"
        rest = process.stderr.read()
        assert "piapi-mock contract: lifecycle:" in rest
    finally:
        process.communicate(timeout=120)
    assert process.returncode == 0


@pytest.mark.socket
def test_junit_and_json_from_the_command_line(served: str, tmp_path: Any) -> None:
    import json
    import xml.etree.ElementTree as ET

    junit, report = tmp_path / "contract.xml", tmp_path / "contract.json"
    flags = ["--junit", str(junit), "--json", str(report), "--phase", "invalid_requests"]
    assert main(["contract", "--base-url", served, "--max-examples", "10", *flags]) == 0
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert {c.get("name") for c in cases} >= {"invalid_rejected", "error_names_field"}
    data = json.loads(report.read_text())
    assert data["exit_code"] == 0
    assert data["spend"]["tasks_created"] == 0


@pytest.mark.socket
def test_a_refused_key_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from contract_tests.server import ServerThread
    from mock_server.settings import Settings

    thread = ServerThread(Settings(api_keys=("right",)))
    try:
        code = main(["contract", "--base-url", thread.base_url, "--api-key", "wrong"])
        calls = thread.backend.journal.call_count
    finally:
        thread.close()
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "refused the API key (HTTP 401" in err[0]
    assert calls == 1
