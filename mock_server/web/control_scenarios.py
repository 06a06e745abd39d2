"""Control plane for scenarios, outcome rules, fault rules and forced moves.

``GET /_mock/scenarios`` lists both grammars, the failure catalogue, the rates and every rule.
``/_mock/rules`` and ``/_mock/faults`` list (GET), add (POST), clear (DELETE) rules;
``/_mock/{rules,faults}/{id}`` removes one; ``/_mock/faults/log`` lists faults fired.
``POST /_mock/tasks/{id}/complete|fail|advance`` moves any owner's task on now.
``POST /_mock/reset`` clears every rule (the backend's reset). On a shared store a change
answers once every process applies it (``domain/shared_rules.py``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.domain import faults, scenarios
from mock_server.domain.backend import FORCE_ACTIONS
from mock_server.domain.errors import PiapiError, TaskNotFound
from mock_server.domain.models import Failure
from mock_server.domain.shared_rules import propagated
from mock_server.web.api import backend_of
from mock_server.web.control import control_body, dump
from mock_server.web.responses import json_data


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise PiapiError(f"invalid request: /{key}: a string is required")
    return value


async def catalogue(request: Request) -> Response:
    """GET /_mock/scenarios: grammars, failure reasons, rates and rules."""
    backend = backend_of(request)
    s = backend.settings
    return json_data(
        {
            "scenario_header": "X-Mock-Scenario",
            "scenarios": [{"grammar": g, "description": d} for g, d in scenarios.GRAMMAR],
            "failures": {
                name: {**asdict(r.failure), "after_s": r.after_s, "rate_weight": r.weight}
                for name, r in scenarios.FAILURES.items()
            },
            "fault_header": "X-Mock-Fault",
            "faults": [{"grammar": g, "description": d} for g, d in faults.GRAMMAR],
            "fault_ops": ["any", *faults.OPS],
            "rates": {
                "failure_rate": s.failure_rate,
                "scenario_rates": list(s.scenario_rates),
                "fault_rate": s.fault_rate,
                "fault_kind": s.fault_kind,
            },
            "headers_honoured": s.scenario_headers,
            "rules": [r.as_dict() for r in backend.scenarios.current()],
            "fault_rules": [r.as_dict() for r in backend.faults.current()],
        }
    )


async def rules(request: Request) -> Response:
    """GET /_mock/rules."""
    return json_data({"rules": [r.as_dict() for r in backend_of(request).scenarios.current()]})


async def add_rule(request: Request) -> Response:
    """POST /_mock/rules {scenario, match?: {...}, times?, every?}."""
    body = await control_body(request)
    scenario = scenarios.parse(_text(body, "scenario"), "/scenario")
    match = scenarios.check_match(body.get("match"))
    firing = scenarios.firing_from(body)
    backend = backend_of(request)
    rule = backend.scenarios.add(scenario, match, firing)
    await propagated(backend.shared)
    return json_data(rule.as_dict(), 201)


async def clear_rules(request: Request) -> Response:
    """DELETE /_mock/rules."""
    backend = backend_of(request)
    backend.scenarios.clear()
    await propagated(backend.shared)
    return json_data({"rules": []})


async def remove_rule(request: Request) -> Response:
    """DELETE /_mock/rules/{rule_id}."""
    rule_id = request.path_params["rule_id"]
    backend = backend_of(request)
    if not backend.scenarios.remove(rule_id):
        raise PiapiError(f"rule {rule_id} not found", 404)
    await propagated(backend.shared)
    return json_data({"removed": rule_id})


async def fault_rules(request: Request) -> Response:
    """GET /_mock/faults."""
    return json_data({"faults": [r.as_dict() for r in backend_of(request).faults.current()]})


async def add_fault(request: Request) -> Response:
    """POST /_mock/faults {fault, on?: any|create|get|cancel|account, api_key?, times?, every?}."""
    body = await control_body(request)
    fault = faults.parse(_text(body, "fault"), "/fault")
    on = body.get("on", "any")
    key = body.get("api_key")
    if not isinstance(on, str) or (key is not None and not isinstance(key, str)):
        raise PiapiError("invalid request: /on and /api_key must be strings")
    firing = scenarios.firing_from(body)
    backend = backend_of(request)
    rule = backend.faults.add(fault, on, key, firing)
    await propagated(backend.shared)
    return json_data(rule.as_dict(), 201)


async def clear_faults(request: Request) -> Response:
    """DELETE /_mock/faults."""
    backend = backend_of(request)
    backend.faults.clear()
    await propagated(backend.shared)
    return json_data({"faults": []})


async def remove_fault(request: Request) -> Response:
    """DELETE /_mock/faults/{rule_id}."""
    rule_id = request.path_params["rule_id"]
    backend = backend_of(request)
    if not backend.faults.remove(rule_id):
        raise PiapiError(f"fault rule {rule_id} not found", 404)
    await propagated(backend.shared)
    return json_data({"removed": rule_id})


async def fault_log(request: Request) -> Response:
    """GET /_mock/faults/log: faults fired, oldest first (the last 1000)."""
    log = list(backend_of(request).faults.log)
    return json_data({"count": len(log), "faults": log})


def _failure(body: dict[str, Any]) -> Failure:
    """The error of a forced failure: a catalogue ``reason`` or explicit fields."""
    reason = body.get("reason", scenarios.DEFAULT_REASON)
    if not isinstance(reason, str) or reason not in scenarios.FAILURES:
        known = ", ".join(scenarios.FAILURES)
        raise PiapiError(f"invalid request: /reason: one of {known}")
    base = scenarios.FAILURES[reason].failure
    code = body.get("code", base.code)
    if isinstance(code, bool) or not isinstance(code, int) or code == 0 or abs(code) >= 2**31:
        raise PiapiError(
            "invalid request: /code: a non-zero integer between -2147483647 and 2147483647"
        )
    message = body.get("message", base.message)
    raw = body.get("raw_message", base.raw_message)
    if not isinstance(message, str) or not message or not isinstance(raw, str):
        raise PiapiError("invalid request: /message (non-empty) and /raw_message: strings")
    return Failure(code, message, raw)


async def force(request: Request) -> Response:
    """POST /_mock/tasks/{id}/complete | fail {reason?|code?,message?,raw_message?} | advance."""
    action = request.path_params["action"]
    if action not in FORCE_ACTIONS:
        raise PiapiError(f"invalid request: unknown action {action!r}", 404)
    body = await control_body(request)
    backend = backend_of(request)
    task_id = request.path_params["task_id"]
    record = backend.store.get(task_id)
    if record is None:
        raise TaskNotFound(task_id)
    backend.force(record, action, _failure(body) if action == "fail" else None)
    return json_data(dump(request, record))


def routes() -> list[BaseRoute]:
    """Routes under ``/_mock`` for scenarios and faults."""
    return [
        Route("/_mock/scenarios", catalogue, methods=["GET"]),
        Route("/_mock/rules", rules, methods=["GET"]),
        Route("/_mock/rules", add_rule, methods=["POST"]),
        Route("/_mock/rules", clear_rules, methods=["DELETE"]),
        Route("/_mock/rules/{rule_id}", remove_rule, methods=["DELETE"]),
        Route("/_mock/faults", fault_rules, methods=["GET"]),
        Route("/_mock/faults", add_fault, methods=["POST"]),
        Route("/_mock/faults", clear_faults, methods=["DELETE"]),
        Route("/_mock/faults/log", fault_log, methods=["GET"]),
        Route("/_mock/faults/{rule_id}", remove_fault, methods=["DELETE"]),
        Route("/_mock/tasks/{task_id}/{action}", force, methods=["POST"]),
    ]
