"""Every registered check passes good evidence and fails broken evidence, naming its rule."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from contract_tests.checks import CHECKS, Checker
from contract_tests.endpoint import MISSING, Exchange
from contract_tests.failures import ContractFailure
from contract_tests.invalid import Invalid
from contract_tests.prices import load_prices
from tests.conftest import EXAMPLES

RESPONSE: dict[str, Any] = json.loads((EXAMPLES / "seed-response.json").read_text())
REQUEST: dict[str, Any] = json.loads((EXAMPLES / "seed-request.json").read_text())
URL = "https://api.piapi.ai/api/v1/task"


def ex(body: Any, status: int = 200, media: str = "application/json") -> Exchange:
    text = body if isinstance(body, str) else json.dumps(body)
    return Exchange("GET", URL, MISSING, status, text, media)


def task(status: str = "pending", **meta: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(RESPONSE["data"]))
    data["status"] = status
    data["meta"].update(meta)
    if status == "completed":
        data["output"]["video"] = "https://x.test/v.mp4"
    if status == "failed":
        data["error"].update(code=10000, message="failed")
    return data


def envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {"code": 200, "data": data, "message": "success"}


T0, T1, T2 = "2026-02-07T02:31:17Z", "2026-02-07T02:31:18Z", "2026-02-07T02:32:40Z"
PENDING = ex(envelope(task()))
PROCESSING = ex(envelope(task("processing", started_at=T1)))
COMPLETED = ex(envelope(task("completed", started_at=T1, ended_at=T2)))
FAILED = ex(envelope(task("failed", started_at=T1, ended_at=T2)))
ERROR_400 = ex({"code": 400, "data": None, "message": "invalid request: /input/duration"}, 400)
LONG = Invalid("duration too long", "/input/duration", "maximum", {})
PRICED_INPUT = {"version": "3.0", "prompt": "p", "resolution": "1080p", "duration": 4}
PRICED = ex(
    envelope(task() | {"meta": task()["meta"] | {"usage": {"frozen": 8000000}}, "input": {}})
)


def video(status: int) -> Callable[[str], httpx.Response]:
    return lambda url: httpx.Response(status, content=b"mp4" if status == 200 else b"")


def history(*exchanges: Exchange) -> list[tuple[Exchange, dict[str, Any]]]:
    return [(e, e.json["data"]) for e in exchanges]


#: check -> (arguments it passes, arguments it fails on, the rule it names)
CASES: dict[str, tuple[tuple[Any, ...], tuple[Any, ...], str]] = {
    "not_server_error": ((ERROR_400,), (ex("oops", 502),), "no 5xx"),
    "code_matches_status": (
        (ERROR_400,),
        (ex({"code": 200, "data": None}, 400),),
        "code = HTTP status",
    ),
    "json_content_type": (
        (PENDING,),
        (ex(envelope(task()), media="text/html"),),
        "json media type",
    ),
    "created_pending": ((PENDING,), (PROCESSING,), "created pending"),
    "completed_consumes_price": (
        (
            ex(
                envelope(
                    task("completed", started_at=T1, ended_at=T2)
                    | {
                        "meta": {
                            **task()["meta"],
                            "started_at": T1,
                            "ended_at": T2,
                            "usage": {"type": "point", "frozen": 5, "consume": 5},
                        }
                    }
                )
            ),
        ),
        (COMPLETED,),
        "consume = frozen",
    ),
    "envelope_valid": (
        (PENDING,),
        (ex(envelope(task("Pending"))),),
        "enum",
    ),
    "valid_accepted": ((PENDING,), (ERROR_400,), "valid request accepted"),
    "invalid_rejected": ((ERROR_400, LONG), (PENDING, LONG), "maximum"),
    "error_names_field": (
        (ERROR_400, LONG),
        (ex({"code": 400, "data": None, "message": "bad"}, 400), LONG),
        "error names the field",
    ),
    "create_echoes": (
        (ex(envelope(task() | {"input": REQUEST["input"]})), REQUEST),
        (PENDING, {"input": {"version": "o1"}}),
        "input echo",
    ),
    "frozen_is_price": (
        (PRICED, {"input": PRICED_INPUT}, load_prices("seed")),
        (PRICED, {"input": {**PRICED_INPUT, "enable_audio": True}}, load_prices("seed")),
        "price",
    ),
    "lifecycle_forward": (
        (history(PENDING, PROCESSING, COMPLETED),),
        (history(PENDING, PROCESSING, PENDING),),
        "statuses move forward",
    ),
    "video_fetchable": ((COMPLETED, video(200)), (COMPLETED, video(404)), "video fetchable"),
    "cancel_only_pending": (
        (ex({"code": 200, "message": "task x canceled"}), "pending", FAILED),
        (ex({"code": 200, "message": "task x canceled"}), "processing", FAILED),
        "only pending is cancellable",
    ),
    "others_cannot_see": (
        (ex({"code": 404, "data": None, "message": "not found"}, 404),),
        (PENDING,),
        "owner only",
    ),
    "webhook_matches_get": (
        ({"timestamp": 1, "data": PENDING.json["data"]}, {"pending": PENDING.json["data"]}),
        (
            {"timestamp": 1, "data": PENDING.json["data"] | {"logs": []}},
            {"pending": PENDING.json["data"]},
        ),
        "webhook = GET",
    ),
    "webhook_secret_header": (
        ({}, {"timestamp": 1, "data": PENDING.json["data"]}),
        ({"x-webhook-secret": "s"}, {"timestamp": 1, "data": PENDING.json["data"]}),
        "x-webhook-secret",
    ),
    "auth_required": (
        (ex({"code": 401, "data": None, "message": "no key"}, 401),),
        (PENDING,),
        "key required",
    ),
    "unknown_task_not_found": ((ERROR_400,), (PENDING,), "unknown id is 4xx"),
    "junk_rejected": ((ERROR_400,), (PENDING,), "junk is 4xx"),
}


def test_every_check_has_a_case_and_a_one_line_doc() -> None:
    assert set(CASES) == set(CHECKS)
    assert all(check.doc and check.doc.endswith(".") for check in CHECKS.values())


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_check_passes_good_and_fails_broken_evidence(name: str) -> None:
    good, bad, rule = CASES[name]
    CHECKS[name].function(*good)
    with pytest.raises(ContractFailure) as caught:
        CHECKS[name].function(*bad)
    assert (caught.value.check, caught.value.rule) == (name, rule)
    assert name in caught.value.render()


@pytest.mark.parametrize(
    ("steps", "rule"),
    [
        ((PENDING, COMPLETED, PROCESSING), "statuses move forward"),
        (
            (COMPLETED, ex(envelope(task("completed", started_at=T1, ended_at=T0)))),
            "timestamps ordered",
        ),
        (
            (PROCESSING, ex(envelope(task("processing", started_at=T2)))),
            "timestamps fixed once set",
        ),
        ((ex(envelope(task("completed", started_at=T1))),), "timestamp set when reached"),
    ],
)
def test_lifecycle_rules_each_bite(steps: tuple[Exchange, ...], rule: str) -> None:
    with pytest.raises(ContractFailure) as caught:
        CHECKS["lifecycle_forward"].function(history(*steps))
    assert caught.value.rule == rule


def test_cancel_refused_while_pending_is_caught() -> None:
    with pytest.raises(ContractFailure, match="still pending"):
        CHECKS["cancel_only_pending"].function(ERROR_400, "pending", PENDING)


def test_schema_failures_carry_pointer_and_schema() -> None:
    with pytest.raises(ContractFailure) as caught:
        CHECKS["envelope_valid"].function(ex(envelope(task("Completed"))))
    assert caught.value.pointer == "/data/status"
    assert caught.value.schema == "task-response.json"


def test_the_checker_skips_and_counts() -> None:
    checker = Checker(skip=["valid_accepted"])
    checker("valid_accepted", ERROR_400)
    checker("not_server_error", ERROR_400)
    assert checker.counts == {"not_server_error": 1}
    with pytest.raises(ValueError, match="unknown checks"):
        Checker(skip=["nope"])
