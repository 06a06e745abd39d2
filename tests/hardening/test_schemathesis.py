"""Schemathesis (``--checks all``, bounded examples) against a served fake: zero failures
(issue #11: defect 13). The fake's deliberate differences from what JSON Schema alone would
allow are met by ``schemathesis/st_hooks.py`` and said in ``schemathesis/schemathesis.toml``;
both are listed in the fake's own document (``x-piapi-mock-stricter``)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.hardening.test_timeouts import Served

pytestmark = pytest.mark.socket
HERE = Path(__file__).parent / "schemathesis"
KEY = "schemathesis-key"


def run_schemathesis(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """The CLI, in a fresh directory (its cache of past failures must not leak between runs)."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "unsupported_method",
        "-H",
        f"x-api-key: {KEY}",
        "--max-examples",
        "10",
        "--seed",
        "1",
        "--no-color",
        *extra,
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "st_hooks",
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    with tempfile.TemporaryDirectory() as workdir:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=170, env=env, cwd=workdir
        )


def test_schemathesis_finds_nothing() -> None:
    served = Served("--api-key", KEY, "--speed", "1000")
    try:
        result = run_schemathesis(served.url)
    finally:
        served.stop()
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert "Failures:" not in summary, summary
    assert " passed, " in summary, summary  # "N generated, N passed, M skipped"


def test_schemathesis_would_catch_an_untrue_document() -> None:
    """The same run against a fake started without --api-key: any key works, so the check
    that bad credentials are refused (ignored_auth) must fail."""
    served = Served("--speed", "1000")
    try:
        result = run_schemathesis(served.url, "--phases", "fuzzing", "--checks", "ignored_auth")
    finally:
        served.stop()
    assert result.returncode != 0, result.stdout[-2000:]
