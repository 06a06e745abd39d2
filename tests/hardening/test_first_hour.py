"""A newcomer's first commands (issue #11: the first hour)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from mock_server import __version__
from mock_server.flag_help import comments, sentence
from mock_server.settings import field_names

PIAPI = [sys.executable, "-m", "mock_server"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PIAPI, *args], capture_output=True, text=True, timeout=60)


def test_version_and_python_m() -> None:
    result = run("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"piapi-mock {__version__}")


def test_every_serve_flag_has_a_sentence_and_says_what_0_means() -> None:
    text = run("serve", "--help").stdout
    for name in field_names():
        assert sentence(name), name
        assert not sentence(name).startswith(name.replace("_", " ") + "."), name
    assert "{failed,cancelled}" in text
    for zero in ["--max-concurrent", "--credits-usd", "--retention", "--max-tasks"]:
        about = sentence(zero[2:].replace("-", "_"))
        assert "0" in about, zero


def test_the_help_check_sees_a_field_without_a_comment() -> None:
    assert "host" not in comments()  # documented by the fallback table instead


def test_a_bad_choice_names_the_flag_and_the_choices() -> None:
    result = run("serve", "--cancel-status", "nope")
    assert result.returncode == 2
    assert "--cancel-status" in result.stderr
    assert "'failed', 'cancelled'" in result.stderr


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_a_port_out_of_range_is_one_line_exit_2(port: str) -> None:
    result = run("serve", "--port", port)
    assert result.returncode == 2
    assert result.stdout == ""  # no banner
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "--port" in result.stderr


@pytest.mark.socket
def test_a_port_in_use_is_one_line_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == f"piapi-mock: --port {port}: 127.0.0.1:{port} is already in use"


def test_openapi_into_a_closed_pipe_is_quiet() -> None:
    shell = f"{sys.executable} -m mock_server openapi | head -c 10"
    result = subprocess.run(shell, shell=True, capture_output=True, text=True, timeout=60)
    assert result.stdout == '{\n  "opena'
    assert result.stderr == ""
