"""Control values are bounded, digits are ASCII, and no request leaves state that breaks later
ones (issue #11: defects 1 and 2)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_server.domain.backend import Backend
from mock_server.domain.clock import SystemClock
from mock_server.web.app import create_asgi
from tests.conftest import BASE_URL, KEY, seed_request

pytestmark = pytest.mark.anyio


async def works(http: httpx.AsyncClient) -> None:
    """Create, get, account and every control read answer without a 5xx."""
    created = await http.post("/api/v1/task", json=seed_request(), headers=KEY)
    assert created.status_code == 200, created.text
    task_id = created.json()["data"]["task_id"]
    for path in [f"/api/v1/task/{task_id}", "/account/info"]:
        response = await http.get(path, headers=KEY)
        assert response.status_code == 200, (path, response.text)
    for path in ["/_mock/clock", "/_mock/tasks", "/_mock/health", "/_mock/journal"]:
        response = await http.get(path)
        assert response.status_code == 200, (path, response.text)


@pytest.fixture
async def served() -> Any:
    """An app on a running (system) clock, as ``serve`` builds it."""
    backend = Backend(clock=SystemClock(1.0))
    transport = httpx.ASGITransport(app=create_asgi(backend=backend))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/_mock/clock/advance", {"seconds": 1e17}, "/seconds"),
        ("/_mock/clock/advance", "1e400", "/seconds"),
        ("/_mock/clock/advance", {"seconds": -1}, "/seconds"),
        ("/_mock/clock/speed", {"speed": 1e300}, "/speed"),
        ("/_mock/clock/speed", {"speed": 1e-300}, "/speed"),
        ("/_mock/clock/speed", {"speed": 0}, "/speed"),
        ("/_mock/reset", {"seed": 10**30}, "/seed"),
        ("/_mock/reset", {"seed": -1}, "/seed"),
        ("/_mock/faults", {"fault": "503", "times": 10**30}, "/times"),
        ("/_mock/faults", {"fault": "503", "every": 10**30}, "/every"),
        ("/_mock/rules", {"scenario": "stuck", "times": 10**30}, "/times"),
    ],
)
async def test_out_of_range_control_values_are_400_naming_the_bound(
    served: httpx.AsyncClient, path: str, body: dict[str, Any] | str, field: str
) -> None:
    before = (await served.get("/_mock/clock")).json()["speed"]
    if isinstance(body, str):  # a JSON number no Python float holds
        response = await served.post(path, content=f'{{"{field[1:]}": {body}}}')
    else:
        response = await served.post(path, json=body)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert field in message
    assert "between" in message or "at most" in message or ">=" in message, message
    assert (await served.get("/_mock/clock")).json()["speed"] == before
    await works(served)


async def test_the_largest_allowed_moves_leave_a_working_fake(served: httpx.AsyncClient) -> None:
    speed = await served.post("/_mock/clock/speed", json={"speed": 100_000})
    assert speed.status_code == 200, speed.text
    for _ in range(3):
        moved = await served.post("/_mock/clock/advance", json={"seconds": 3_155_760_000})
        assert moved.status_code == 200, moved.text
    await works(served)
    assert (await served.post("/_mock/reset", json={})).status_code == 200
    await works(served)


async def test_the_clock_cannot_pass_the_renderable_range(served: httpx.AsyncClient) -> None:
    refused = None
    for _ in range(80):  # 100 years a step: the bound (year 9000) comes before 8,000 years
        response = await served.post("/_mock/clock/advance", json={"seconds": 3_155_760_000})
        if response.status_code != 200:
            refused = response
            break
    assert refused is not None
    assert refused.status_code == 400
    assert "/seconds" in refused.json()["message"]
    await works(served)


async def test_a_failed_create_is_not_stored(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("render failed")

    from mock_server.web.answers import CreatedAnswers

    monkeypatch.setattr(CreatedAnswers, "answer", broken)  # the create's rendering
    asgi = create_asgi(backend=backend)
    transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        response = await http.post("/api/v1/task", json=seed_request(), headers=KEY)
    assert response.status_code == 500
    assert len(backend.store) == 0
    assert backend.ledger.wallet("test-key")["point_frozen"] == 0


@pytest.mark.parametrize(
    "fault",
    ["²", "5²", "truncate:²", "latency:²", "latency:\u0661\u0662", "latency:1e3", "latency:inf"],
)
async def test_fault_header_digits_must_be_ascii(client: httpx.AsyncClient, fault: str) -> None:
    response = await client.get(
        "/api/v1/task/x", headers={b"x-api-key": b"k", b"x-mock-fault": fault.encode("utf-8")}
    )
    assert response.status_code == 400, response.text
    assert "X-Mock-Fault" in response.json()["message"]


@pytest.mark.parametrize("raw", [b"\xb2", b"5\xb2", b"truncate:\xb2", b"latency:\xb9"])
async def test_latin1_digit_bytes_in_fault_headers_are_400(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    response = await client.get(
        "/api/v1/task/x", headers={b"x-api-key": b"k", b"x-mock-fault": raw}
    )
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("text", ["²", "5²", "truncate:²"])
async def test_fault_rule_digits_must_be_ascii(client: httpx.AsyncClient, text: str) -> None:
    response = await client.post("/_mock/faults", json={"fault": text})
    assert response.status_code == 400, response.text
    assert "/fault" in response.json()["message"]


@pytest.mark.parametrize(
    "scenario", ["pending:²", "complete-after:\u0661", "slow:²", "fail-after:5²", "pending:1e2"]
)
async def test_scenario_digits_must_be_ascii(client: httpx.AsyncClient, scenario: str) -> None:
    response = await client.post(
        "/api/v1/task",
        json=seed_request(),
        headers={b"x-api-key": b"k", b"x-mock-scenario": scenario.encode("utf-8")},
    )
    assert response.status_code == 400, response.text
    assert "X-Mock-Scenario" in response.json()["message"]


@pytest.mark.parametrize("limit", ["①", "²", "0", "-1", "1" * 4301, "10001", " 5", "5.0"])
async def test_task_list_limits_are_ascii_and_bounded(
    client: httpx.AsyncClient, limit: str
) -> None:
    response = await client.get("/_mock/tasks", params={"limit": limit})
    assert response.status_code == 400, response.text
    assert "limit" in response.json()["message"]


async def test_a_non_ascii_content_length_is_not_a_500(client: httpx.AsyncClient) -> None:
    request = client.build_request("POST", "/api/v1/task", headers=KEY, content=b"{}")
    request.headers["content-length"] = "²"
    response = await client.send(request)
    assert response.status_code == 400, response.text
