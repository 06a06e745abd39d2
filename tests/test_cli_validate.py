"""``piapi-mock validate KIND FILE...``: exit codes, pointers, standard input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from mock_server.cli import main
from tests.conftest import EXAMPLES


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["validate", *args])
    return code, capsys.readouterr().out


def test_seed_examples_are_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "request", str(EXAMPLES / "seed-request.json"))
    assert code == 0
    assert "valid request" in out
    code, _ = run(capsys, "response", str(EXAMPLES / "seed-response.json"))
    assert code == 0


def test_an_invalid_file_exits_1_and_prints_the_pointer(capsys: pytest.CaptureFixture[str]) -> None:
    good = str(EXAMPLES / "seed-request.json")
    bad = str(EXAMPLES / "invalid" / "duration-16.json")
    code, out = run(capsys, "request", good, bad)
    assert code == 1
    assert f"{bad}: /input/duration: 16 is greater than the maximum of 15 [maximum]" in out
    assert f"{good}: valid request" in out


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    payload = {"code": 404, "data": None, "message": "task x not found"}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(payload)))
    assert run(capsys, "error", "-")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO('{"code": 404, "data": {}}'))
    code, out = run(capsys, "error", "-")
    assert code == 1
    assert "<stdin>: /data:" in out
    assert "<stdin>: /message: 'message' is required [required]" in out


def test_not_json_and_missing_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    code, out = run(capsys, "task", str(broken), str(tmp_path / "absent.json"))
    assert code == 1
    assert "not JSON" in out
    assert "cannot read" in out


def test_unknown_kind_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "nonsense", "x.json"])
    assert exit_info.value.code == 2
