"""The benchmark's helpers, and the hot-path shortcuts it led to: each equals the slow original."""

from __future__ import annotations

import json
import random
import socket
import time
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from bench.bare_app import filler
from bench.servers import bare_server, cpu_seconds
from bench.suite_api import call
from bench.suite_memory import rss_mb
from bench.wrk import WrkResult, get_script, lua_string, parse_wrk
from mock_server.domain.clock import NS
from mock_server.domain.models import TaskRecord
from mock_server.domain.prepared import config_echo, config_json, echo_json
from mock_server.domain.render import rfc3339
from mock_server.schema_registry import _strict_integers, default_registry
from mock_server.web.api import base_url, request_path
from tests.conftest import EXAMPLES, KEY

WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:4000/api/v1/task
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.20ms  500.00us  12.00ms   90.00%
    Req/Sec     7.60k   300.00     8.00k    70.00%
  Latency Distribution
     50%    4.10ms
     75%    4.30ms
     90%    4.60ms
     99%  850.00us
  22800 requests in 3.00s, 21.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   7600.12
Transfer/sec:      7.00MB
"""


def test_parse_wrk_reads_rate_p99_in_ms_and_failures() -> None:
    assert parse_wrk(WRK_OUTPUT) == WrkResult(7600.12, 0.85, 22800, 3)
    seconds = WRK_OUTPUT.replace("99%  850.00us", "99%    1.50s")
    assert parse_wrk(seconds).p99_ms == 1500.0
    errors = WRK_OUTPUT + "  Socket errors: connect 1, read 2, write 0, timeout 4\n"
    assert parse_wrk(errors).errors == 3 + 1 + 2 + 4


def test_parse_wrk_refuses_output_without_the_figures() -> None:
    with pytest.raises(RuntimeError, match="cannot read wrk output"):
        parse_wrk(WRK_OUTPUT.replace("Requests/sec:", "Requests:"))
    with pytest.raises(RuntimeError, match="cannot read wrk output"):
        parse_wrk(WRK_OUTPUT.replace("     99%  850.00us\n", ""))


def test_lua_strings_survive_closing_brackets() -> None:
    assert lua_string("plain") == "[[plain]]"
    assert lua_string('a]]b"c') == '[=[a]]b"c]=]'
    assert lua_string("]]]=]") == "[==[]]]=]]==]"


def test_get_script_cycles_over_every_id() -> None:
    script = get_script(["a-1", "b-2"])
    assert "{[[a-1]],[[b-2]]}" in script
    assert "i % n + 1" in script
    assert '"/api/v1/task/" .. ids[i]' in script


def test_filler_is_json_of_the_exact_size() -> None:
    for size in (12, 13, 863, 5000):
        body = filler(size)
        assert len(body) == size
        assert json.loads(body)["pad"].strip("x") == ""
    with pytest.raises(ValueError, match="at least 12"):
        filler(11)


def test_rss_grows_with_what_the_process_holds() -> None:
    before = rss_mb()
    held = bytearray(64 * 2**20)
    held[::4096] = b"\x01" * len(held[::4096])  # touch every page
    assert rss_mb() - before > 48
    del held


@pytest.mark.socket
def test_bench_servers_answer_and_are_always_stopped() -> None:
    with bare_server(100, 200) as server:
        port = server.port
        assert len(call(port, "POST", "/api/v1/task", b"{}")) == 100
        assert cpu_seconds(server.pid) > 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return
        time.sleep(0.05)
    pytest.fail(f"the bench server on port {port} is still listening")


# -- the shortcuts equal what they replace ------------------------------------------------------


def reference_rfc3339(ns: int | None) -> str:
    """The first, unmemoised implementation."""
    if ns is None:
        return "0001-01-01T00:00:00Z"
    seconds, fraction = divmod(ns, NS)
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % time.gmtime(seconds)[:6]  # noqa: UP031
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


def test_memoised_rfc3339_equals_the_plain_formatting() -> None:
    rng = random.Random(7)
    instants = [None, 0, 1, NS, 1_770_431_477_998_381_738, 1_770_431_477 * NS, -1]
    instants += [rng.randrange(-(10**18), 4 * 10**18) for _ in range(2000)]
    for ns in instants + instants:  # the second pass is served by the memo
        assert rfc3339(ns) == reference_rfc3339(ns)
    assert reference_rfc3339(1) != reference_rfc3339(10)  # the check can tell instants apart


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=20,
)
NUMBERS = st.integers(-3, 20) | st.floats(-3, 20) | st.integers(1, 20).map(float)


@settings(deadline=None)  # jsonschema on a busy shared machine can take 0.3 s
@given(duration=NUMBERS, shot=NUMBERS, extra=JSON)
def test_fast_path_is_as_strict_about_integers_as_jsonschema(
    duration: Any, shot: Any, extra: Any
) -> None:
    """Floats anywhere (integer fields or free extra keys): both validators agree."""
    registry = default_registry()
    body: dict[str, Any] = json.loads((EXAMPLES / "seed-request.json").read_text())
    body["input"].update(duration=duration, extra=extra)
    body["input"]["multi_shots"] = [{"prompt": "a", "duration": shot}]
    assert registry.fast_accepts("request", body) == (registry.slow_errors("request", body) == [])


def test_an_integral_float_is_refused_by_the_fast_path_itself() -> None:
    body: dict[str, Any] = json.loads((EXAMPLES / "seed-request.json").read_text())
    omni = default_registry().request_schema("kling", "omni_video_generation")
    assert omni is not None
    body["input"]["duration"] = 5.0
    assert not default_registry().fast_accepts(omni, body)
    body["input"]["duration"] = 5
    assert default_registry().fast_accepts(omni, body)


def test_a_changed_fastjsonschema_integer_clause_is_noticed() -> None:
    assert _strict_integers("x and not (isinstance(v, float) and v.is_integer())") == "x"
    with pytest.raises(RuntimeError, match="integer check changed"):
        _strict_integers("if v.is_integer(): pass")


PATH_CHARS = "abz09/._~:@!$&'()*+,;=%-?#\\ \t\n[]é"


def request_for(path: str, host: bytes | None, scheme: str, query: bytes) -> Request:
    headers = [] if host is None else [(b"host", host)]
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "headers": headers,
            "query_string": query,
            "scheme": scheme,
            "server": ("127.0.0.1", 8000),
        }
    )


@given(
    path=st.text(PATH_CHARS, max_size=12).map(lambda p: "/" + p) | st.text(PATH_CHARS, max_size=12),
    host=st.sampled_from([None, b"127.0.0.1:8000", b"ex.com", b"[::1]:80", b"a/b", b"x:99999"]),
    scheme=st.sampled_from(["http", "https"]),
    query=st.sampled_from([b"", b"a=1"]),
)
def test_path_and_base_url_shortcuts_equal_starlettes_url(
    path: str, host: bytes | None, scheme: str, query: bytes
) -> None:
    url = request_for(path, host, scheme, query).url
    assert request_path(request_for(path, host, scheme, query)) == url.path
    assert base_url(request_for(path, host, scheme, query)) == f"{url.scheme}://{url.netloc}"


def test_a_path_starlette_rewrites_is_not_taken_as_is() -> None:
    request = request_for("/api/v1/task/a?b", b"h", "http", b"")
    assert request.scope["path"] != request.url.path  # why the shortcut needs its guard
    assert request_path(request) == request.url.path == "/api/v1/task/a%3Fb"


def test_records_share_their_repeated_strings() -> None:
    def record(owner: str) -> TaskRecord:
        return TaskRecord(
            "id", owner, "kling", "t", "{}", "{}", "16:9", 1, False, "http://h", 0, 0, 1
        )

    first, second = record("".join(["ke", "y"])), record("".join(["k", "ey"]))
    assert first.owner == second.owner
    assert first.owner is second.owner

    class Key(str):
        pass

    assert type(record(Key("key")).owner) is Key  # a str subclass is kept as it is


@pytest.mark.anyio
async def test_content_type_is_named_only_when_the_body_fails(client: httpx.AsyncClient) -> None:
    bad = await client.post(
        "/api/v1/task", content=b"{oops", headers={**KEY, "content-type": "text/plain"}
    )
    assert bad.status_code == 400
    assert "Content-Type is 'text/plain'" in bad.json()["message"]
    plain = await client.post(
        "/api/v1/task", content=b"{oops", headers={**KEY, "content-type": "application/json"}
    )
    assert "Content-Type" not in plain.json()["message"]


@given(
    mode=st.text(max_size=4) | st.sampled_from(["public", "private", ""]),
    endpoint=st.text(max_size=8) | st.just('https://h.example/x?a=1&b="2"'),
    secret=st.text(max_size=4),
)
def test_assembled_config_echo_equals_the_encoder(mode: str, endpoint: str, secret: str) -> None:
    config = config_echo(
        {"service_mode": mode, "webhook_config": {"endpoint": endpoint, "secret": secret}}
    )
    assert config_json(config) == echo_json(config)


def test_assembled_config_echo_keeps_each_value_in_its_place() -> None:
    config = config_echo({"service_mode": "public", "webhook_config": {"secret": "s"}})
    swapped = config_echo({"service_mode": "s", "webhook_config": {"secret": "public"}})
    assert (
        config_json(config)
        == '{"service_mode":"public","webhook_config":{"endpoint":"","secret":"s"}}'
    )
    assert config_json(config) != config_json(swapped)
    odd = config_echo({"service_mode": "\ud800", "webhook_config": {"endpoint": "é"}})
    assert config_json(odd) == echo_json(odd)  # lone surrogate and non-ASCII: the encoder


# -- the api suite's options, pinning and cases --------------------------------------------------


def test_bench_options_become_serve_flags() -> None:
    from bench.suite_api import Options, options_from_env

    assert options_from_env({}) == Options()
    options = options_from_env(
        {"PIAPI_BENCH_STORE": "redis://127.0.0.1:1/0", "PIAPI_BENCH_WORKERS": "2"}
    )
    assert options.flags == ["--store", "redis://127.0.0.1:1/0", "--workers", "2"]
    assert options.label == "redis://127.0.0.1:1/0, 2 workers"
    assert Options().flags == []
    assert options_from_env({"PIAPI_BENCH_SUSTAINED": "0"}).sustained == 0


def test_bench_command_line_sets_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from bench.__main__ import main

    for name in ("PIAPI_BENCH_SUSTAINED", "PIAPI_BENCH_STORE"):
        monkeypatch.delenv(name, raising=False)
    assert main(["nothing-like-this", "--sustained", "0"]) == 2  # unknown suite: nothing runs
    assert os.environ["PIAPI_BENCH_SUSTAINED"] == "0.0"
    assert "PIAPI_BENCH_STORE" not in os.environ


def test_pinning_puts_server_and_wrk_on_different_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import servers

    monkeypatch.delenv(servers.SERVER_CPUS_ENV, raising=False)
    monkeypatch.delenv(servers.WRK_CPUS_ENV, raising=False)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {3, 1}, raising=False)
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/" + name)
    assert servers.pinning() == ("1", "3")
    assert servers.pinning().prefix("1") == ["taskset", "-c", "1"]
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0}, raising=False)
    assert servers.pinning() == ("", "")  # one CPU: nothing to pin apart
    assert servers.pinning().prefix("") == []
    monkeypatch.setenv(servers.SERVER_CPUS_ENV, "0")
    monkeypatch.setenv(servers.WRK_CPUS_ENV, "1")
    assert servers.pinning() == ("0", "1")


def test_the_bench_fake_is_serve_itself() -> None:
    from bench.servers import fake_command

    command = fake_command(4000, ["--store", "sqlite:///x"])
    assert command[1:4] == ["-m", "mock_server.cli", "serve"]
    assert command[-2:] == ["--store", "sqlite:///x"]


def test_video_generation_case_waits_for_its_pack(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from bench import suite_api

    monkeypatch.setattr(suite_api, "schemas_dir", lambda: tmp_path)
    assert suite_api.vg_body() is None
    valid = tmp_path / "packs" / suite_api.VG_PACK / "examples" / "valid"
    valid.mkdir(parents=True)
    assert suite_api.vg_body() is None
    (valid / "a.json").write_text(
        '{"model": "kling", "task_type": "video_generation", "input": {}}'
    )
    assert json.loads(suite_api.vg_body() or b"")["task_type"] == "video_generation"


def test_request_body_blanks_the_webhook() -> None:
    from bench.suite_api import request_body

    body = json.loads(request_body())
    assert body["config"]["webhook_config"]["endpoint"] == ""
    assert body["input"]["version"] == "3.0"


def test_the_report_warns_when_the_machine_is_busy() -> None:
    from bench.suite_api import load_note

    assert load_note((0.5, 0, 0), 2) == "load average 0.5 on 2 CPUs"
    assert "unreliable" in load_note((14.2, 0, 0), 2)
    assert "unreliable" not in load_note((1.9, 0, 0), 2)


def test_the_distinct_bodies_script_numbers_a_valid_body() -> None:
    from bench.suite_api import numbered, request_body
    from bench.wrk import MARK, distinct_post_script

    body = numbered(request_body())
    head, _, tail = body.decode().partition(MARK)
    numbered_body = json.loads(f"{head}41{tail}")
    assert numbered_body["input"]["prompt"].endswith(" 41")
    assert default_registry().is_valid("request", numbered_body)
    script = distinct_post_script(body)
    assert lua_string(head) in script
    assert lua_string(tail) in script
    assert "head .. n .. tail" in script
    with pytest.raises(ValueError, match="@N@"):
        distinct_post_script(request_body())  # nothing to number: every body would be equal
