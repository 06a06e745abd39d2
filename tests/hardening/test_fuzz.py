"""Hostile requests never get a 5xx they did not ask for (issue #11). Counted, not timed."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from contract_tests.asgi import asgi_client
from mock_server.domain.backend import manual_backend
from mock_server.web.app import create_asgi
from tests.hardening.fuzz import Tally, request

TALLY = Tally()
BACKEND, CLOCK = manual_backend()
CLIENT = asgi_client(create_asgi(backend=BACKEND))


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(request())
def test_no_hostile_request_gets_a_5xx(sent: httpx.Request) -> None:
    try:
        answer = CLIENT.send(sent)
    except Exception as exc:  # a dropped/truncated fault raises in-process; anything else fails
        if type(exc).__name__ not in {"ConnectionDropped", "RemoteProtocolError"}:
            raise
        TALLY.record(sent, 0, "")
        return
    TALLY.record(sent, answer.status_code, answer.text)
    assert answer.status_code < 500 or "x-mock-fault" in sent.headers, answer.text


def test_the_tally_counts_an_unasked_5xx() -> None:
    tally = Tally()
    tally.record(httpx.Request("GET", "https://api.piapi.ai/x"), 500, "boom")
    tally.record(
        httpx.Request("GET", "https://api.piapi.ai/x", headers={"x-mock-fault": "500"}), 500, ""
    )
    assert (tally.sent, tally.server_errors) == (2, 1)


def test_the_fuzz_sent_what_it_says() -> None:
    if TALLY.sent == 0:
        pytest.skip("run with the fuzz test")
    assert TALLY.server_errors == 0, TALLY.examples
