"""HTTP faults at the ASGI level: per header, by rule (once, N times, every Nth), by rate."""

from __future__ import annotations

import httpx
import pytest

from mock_server.domain.backend import Backend
from mock_server.schema_registry import default_registry
from mock_server.web.faults import ConnectionDropped, operation
from tests.scenarios.helpers import KEY, Sleeps, body, make, open_client

pytestmark = pytest.mark.anyio


async def call(http: httpx.AsyncClient, op: str, fault: str | None = None) -> httpx.Response:
    headers = dict(KEY) if fault is None else {**KEY, "X-Mock-Fault": fault}
    if op == "create":
        return await http.post("/api/v1/task", json=body(), headers=headers)
    if op == "account":
        return await http.get("/account/info", headers=headers)
    return await http.get("/api/v1/task/unknown", headers=headers)


@pytest.mark.parametrize("status", [429, 500, 502, 503])
@pytest.mark.parametrize("op", ["create", "get", "account"])
async def test_error_envelopes_per_header(status: int, op: str) -> None:
    backend, _ = make()
    async with open_client(backend) as http:
        answer = await call(http, op, str(status))
    assert answer.status_code == status
    assert default_registry().errors("error", answer.json()) == []
    assert answer.json()["code"] == status
    assert (answer.headers.get("retry-after") == "1") is (status == 429)
    assert len(backend.store) == 0  # the app never saw the create


def test_the_envelope_check_can_fail() -> None:
    assert default_registry().errors("error", {"code": 503, "message": 1}) != []


async def test_latency_is_played_through_the_swappable_sleep(sleeps: Sleeps) -> None:
    backend, _ = make()
    async with open_client(backend, sleeps) as http:
        answer = await call(http, "create", "latency:250")
        ranged = [await call(http, "account", "latency:100-300") for _ in range(20)]
    assert answer.status_code == 200
    assert all(r.status_code == 200 for r in ranged)
    assert sleeps.calls[0] == 0.25
    assert all(0.1 <= s <= 0.3 for s in sleeps.calls[1:])
    assert len(set(sleeps.calls[1:])) > 10  # a distribution, not one value
    assert [e["latency_s"] for e in backend.faults.log] == sleeps.calls


async def test_seeded_latency_repeats_under_the_seed() -> None:
    async def draws(seed: int) -> list[float]:
        sleeps = Sleeps()
        async with open_client(make(seed=seed)[0], sleeps) as http:
            for _ in range(10):
                await call(http, "get", "latency:0-1000")
        return sleeps.calls

    assert await draws(1) == await draws(1)
    assert await draws(1) != await draws(2)


async def test_drop_in_process_raises() -> None:
    async with open_client(make()[0]) as http:
        with pytest.raises(ConnectionDropped):
            await call(http, "get", "drop")


async def test_truncate_sends_the_headers_and_part_of_the_body() -> None:
    backend, _ = make()
    async with open_client(backend) as http:
        half = await call(http, "create", "truncate")
        ten = await call(http, "create", "truncate:10")
    full = int(half.headers["content-length"])
    assert len(half.content) == full // 2
    assert len(ten.content) == 10
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        half.json()
    assert len(backend.store) == 2  # the app did answer: the task exists


async def test_a_bad_fault_header_is_a_400_naming_it() -> None:
    async with open_client(make()[0]) as http:
        answer = await call(http, "get", "418")
    assert answer.status_code == 400
    assert "X-Mock-Fault" in answer.json()["message"]


async def test_control_plane_and_files_are_never_faulted() -> None:
    async with open_client(make(fault_rate=1.0)[0]) as http:
        assert (await http.get("/_mock/health", headers={"X-Mock-Fault": "503"})).is_success
        assert (await http.get("/openapi.json")).is_success
        assert (await call(http, "get")).status_code == 503


async def add(http: httpx.AsyncClient, **rule: object) -> httpx.Response:
    return await http.post("/_mock/faults", json=rule)


async def statuses(http: httpx.AsyncClient, op: str, n: int) -> list[int]:
    return [(await call(http, op)).status_code for _ in range(n)]


async def test_rule_once_n_times_every_nth_and_per_op() -> None:
    backend, _ = make()
    async with open_client(backend) as http:
        assert (await add(http, fault="503", on="create", times=1)).status_code == 201
        assert await statuses(http, "create", 3) == [503, 200, 200]
        assert await statuses(http, "get", 1) == [404]
        await http.delete("/_mock/faults")
        await add(http, fault="429", on="get", times=2)
        assert await statuses(http, "get", 4) == [429, 429, 404, 404]
        await http.delete("/_mock/faults")
        await add(http, fault="500", every=3)
        assert await statuses(http, "account", 6) == [200, 200, 500, 200, 200, 500]
        await http.delete("/_mock/faults")
        await add(http, fault="502", api_key="vip")
        assert await statuses(http, "account", 2) == [200, 200]
        listed = (await http.get("/_mock/faults")).json()["faults"]
    assert listed[0]["fault"] == "502"
    faulted = [(c.status, c.message) for c in backend.journal if "X-Mock-Fault" in c.message]
    assert faulted[:2] == [(503, "X-Mock-Fault 503 (f1)"), (429, "X-Mock-Fault 429 (f2)")]
    assert [e["source"] for e in backend.faults.log][:3] == ["f1", "f2", "f2"]


async def test_a_rule_can_drop_or_truncate_get() -> None:
    backend, _ = make()
    async with open_client(backend) as http:
        await add(http, fault="drop", on="get", times=1)
        with pytest.raises(ConnectionDropped):
            await call(http, "get")
        assert (await call(http, "get")).status_code == 404


async def rate_run(seed: int) -> list[int]:
    backend, _ = make(fault_rate=0.3, fault_kind="502", seed=seed)
    async with open_client(backend) as http:
        return await statuses(http, "account", 200)


async def test_fault_rate_is_seeded() -> None:
    first = await rate_run(4)
    assert 30 <= first.count(502) <= 90  # binomial(200, 0.3): mean 60, sd 6.5
    assert set(first) == {200, 502}
    assert first == await rate_run(4)
    assert first != await rate_run(5)


async def test_reset_clears_fault_rules_and_log(backend: Backend) -> None:
    async with open_client(backend) as http:
        await add(http, fault="503")
        assert (await call(http, "get")).status_code == 503
        assert (await http.post("/_mock/reset", json={})).is_success
        assert (await call(http, "get")).status_code == 404
    assert backend.faults.rules == []
    assert list(backend.faults.log) == []


@pytest.mark.parametrize(
    ("method", "path", "op"),
    [
        ("POST", "/api/v1/task", "create"),
        ("GET", "/api/v1/task", None),
        ("GET", "/api/v1/task/abc", "get"),
        ("DELETE", "/api/v1/task/abc", "cancel"),
        ("POST", "/api/v1/task/abc/cancel", "cancel"),
        ("POST", "/api/v1/task/abc/other", None),
        ("GET", "/api/v1/task/", None),
        ("GET", "/account/info", "account"),
        ("GET", "/_mock/tasks/abc", None),
        ("GET", "/storage/videos/abc.mp4", None),
    ],
)
def test_operations(method: str, path: str, op: str | None) -> None:
    assert operation(method, path) == op


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({}, "/fault: a string"),
        ({"fault": "teapot"}, "/fault: unknown step"),
        ({"fault": "503", "on": "delete"}, "/on: one of"),
        ({"fault": "503", "on": 1}, "/on and /api_key"),
        ({"fault": "503", "times": 0}, "/times: a positive integer"),
        ({"fault": "503", "every": True}, "/every: a positive integer"),
    ],
)
async def test_bad_fault_rules_are_400s(rule: dict[str, object], message: str) -> None:
    async with open_client(make()[0]) as http:
        answer = await http.post("/_mock/faults", json=rule)
    assert answer.status_code == 400
    assert message in answer.json()["message"]
