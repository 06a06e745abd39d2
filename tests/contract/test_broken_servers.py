"""Proof that the checks bite: the suite against servers that each break one contract rule.

Every broken server is the fake behind a pure-ASGI wrapper that rewrites one thing in its
JSON answers (or its status). The suite must fail and name the check and the rule; the same
suite passes against the unbroken fake.
"""

from __future__ import annotations

from typing import Any

import pytest

from contract_tests.suite import SuiteOptions, SuiteReport, run_suite
from tests.contract.conftest import Connect
from tests.contract.references import Rewrite, rewriting


def task_data(document: Any) -> dict[str, Any] | None:
    data = document.get("data") if isinstance(document, dict) else None
    return data if isinstance(data, dict) and "status" in data else None


def capitalised_status(scope: dict[str, Any], request: bytes, document: Any) -> Any:
    if (data := task_data(document)) is not None:
        data["status"] = data["status"].capitalize()
    return document


def missing_field(scope: dict[str, Any], request: bytes, document: Any) -> Any:
    if (data := task_data(document)) is not None:
        del data["meta"]["is_using_private_pool"]
    return document


def wrong_price(scope: dict[str, Any], request: bytes, document: Any) -> Any:
    if (data := task_data(document)) is not None and data["input"].get("enable_audio"):
        data["meta"]["usage"]["frozen"] = data["meta"]["usage"]["frozen"] * 3 // 2
    return document


def crash_on_square(scope: dict[str, Any], request: bytes, document: Any) -> Any:
    if scope["method"] == "POST" and b'"1:1"' in request:
        return 500, {"code": 500, "data": None, "message": "internal error"}
    return document


def no_video(scope: dict[str, Any], request: bytes, document: Any) -> Any:
    data = task_data(document)
    if data is not None and data["status"] == "completed":
        data["output"]["video"] = "https://api.piapi.ai/storage/videos/gone.mp4"
    return document


def going_backwards() -> Rewrite:
    """The second GET in the same status shows the stage before (schema-valid, but back)."""
    served: set[tuple[str, str]] = set()

    def rewrite(scope: dict[str, Any], request: bytes, document: Any) -> Any:
        data = task_data(document)
        if data is None or scope["method"] != "GET":
            return document
        key = (data["task_id"], data["status"])
        if key not in served:
            served.add(key)
            return document
        meta = data["meta"]
        if data["status"] == "processing":
            data["status"], meta["started_at"] = "pending", "0001-01-01T00:00:00Z"
        elif data["status"] == "completed":
            data["status"], meta["ended_at"] = "processing", "0001-01-01T00:00:00Z"
            data["output"]["video"], meta["usage"]["consume"] = "", 0
        return document

    return rewrite


def accepts_too_long(scope: dict[str, Any], request: bytes, document: Any) -> Any:
    """Lets through what breaks a ``maximum`` (a 16 s video, a 15 s shot) with a 200."""
    message = str(document.get("message", "")) if isinstance(document, dict) else ""
    if scope["method"] == "POST" and "[maximum]" in message:
        return 200, {"code": 200, "data": None, "message": "success"}
    return document


def leaks_to_others(scope: dict[str, Any], request: bytes, document: Any) -> Any:
    if document.get("code") == 404 and scope["method"] == "GET":
        headers = dict(scope["headers"])
        if headers.get(b"x-api-key", b"").endswith(b"-contract-other"):
            return 200, {"code": 200, "data": {"task_id": "x"}, "message": "success"}
    return document


def cancels_processing(scope: dict[str, Any], request: bytes, document: Any) -> Any:
    """Says a processing task was cancelled (it goes on processing)."""
    message = str(document.get("message", "")) if isinstance(document, dict) else ""
    if scope["method"] == "DELETE" and "is processing" in message:
        task_id = scope["path"].rsplit("/", 1)[1]
        return 200, {"code": 200, "message": f"task {task_id} canceled"}
    return document


def creation_drifts() -> Rewrite:
    """``created_at`` moves a second on every GET."""
    seen: dict[str, int] = {}

    def rewrite(scope: dict[str, Any], request: bytes, document: Any) -> Any:
        data = task_data(document)
        if data is not None and scope["method"] == "GET":
            seen[data["task_id"]] = tick = seen.get(data["task_id"], 0) + 1
            data["meta"]["created_at"] = f"2026-02-07T02:31:{tick % 60:02d}Z"
        return document

    return rewrite


def consumes_nothing(scope: dict[str, Any], request: bytes, document: Any) -> Any:
    data = task_data(document)
    if data is not None and data["status"] == "completed":
        data["meta"]["usage"]["consume"] = 0
    return document


def run(
    connect: Connect, rewrite: Rewrite, *phases: str, examples: int = 40, shrink: bool = False
) -> SuiteReport:
    endpoint = connect(lambda app: rewriting(app, rewrite))
    # Webhooks off: the fake's deliveries (unbroken) would differ from the broken GET first.
    options = SuiteOptions(
        max_examples=examples, seed=7, only=phases, shrink=shrink, webhooks=False
    )
    return run_suite(endpoint, options)


CASES = [
    (capitalised_status, ("valid_requests",), "envelope_valid: enum"),
    (missing_field, ("valid_requests",), "envelope_valid: required"),
    (wrong_price, ("valid_requests",), "frozen_is_price: price"),
    (crash_on_square, ("valid_requests",), "not_server_error: no 5xx"),
    (no_video, ("lifecycle",), "video_fetchable: video fetchable"),
    (accepts_too_long, ("invalid_requests",), "invalid_rejected: maximum"),
    (leaks_to_others, ("lifecycle",), "others_cannot_see: owner only"),
    (cancels_processing, ("lifecycle",), "cancel_only_pending: only pending is cancellable"),
    (creation_drifts(), ("lifecycle",), "lifecycle_forward: timestamps fixed once set"),
    (consumes_nothing, ("lifecycle",), "completed_consumes_price: consume = frozen"),
]


@pytest.mark.parametrize(("rewrite", "phases", "rule"), CASES, ids=[c[0].__name__ for c in CASES])
def test_each_break_is_caught_and_named(
    connect: Connect, rewrite: Rewrite, phases: tuple[str, ...], rule: str
) -> None:
    report = run(connect, rewrite, *phases)
    assert not report.ok
    assert rule in report.rules, report.render()
    assert all(f.example for f in report.findings), "each finding shows its example"


def test_the_failing_example_is_shrunk(connect: Connect) -> None:
    """With shrinking on, the example reported is minimal: one create, nothing else."""
    report = run(connect, capitalised_status, "valid_requests", shrink=True)
    example = " ".join(report.findings[0].example.split())
    assert "'input': {'version': '3.0', 'prompt': ''}}" in example, example


def test_a_status_going_backwards_is_caught(connect: Connect) -> None:
    report = run(connect, going_backwards(), "lifecycle", examples=60)
    assert "lifecycle_forward: statuses move forward" in report.rules, report.render()


def test_the_unbroken_fake_passes_the_same_phases(connect: Connect) -> None:
    report = run(connect, lambda scope, request, document: document, examples=40)
    assert report.ok, report.render()
    assert {p.name for p in report.phases} >= {"valid_requests", "lifecycle", "invalid_requests"}
