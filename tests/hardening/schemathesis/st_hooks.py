"""Schemathesis hooks for the run against the fake (loaded with SCHEMATHESIS_HOOKS).

Two rules of the fake JSON Schema cannot say, both listed in its OpenAPI document
(``x-piapi-mock-stricter``), are met by the generated bodies before they are sent:

- JSON Schema counts ``5.0`` as an integer; the fake, like Go's decoder, does not: integral
  floats are sent as integers (what any real client's JSON encoder does);
- the shots of ``multi_shots`` last at most 15 s in all: when every shot has a valid duration
  (1-15) but their sum is over 15, each lasts 1 s (a negative case that broke a duration
  itself is left alone).
"""

from __future__ import annotations

from typing import Any

import schemathesis


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral(item) for item in value]
    return value


def _fit_shots(body: Any) -> Any:
    task_input = body.get("input") if isinstance(body, dict) else None
    shots = task_input.get("multi_shots") if isinstance(task_input, dict) else None
    if not isinstance(shots, list) or not all(isinstance(s, dict) for s in shots):
        return body
    durations = [s.get("duration", 3) for s in shots]  # the fake counts a missing one as 3
    valid = all(type(d) is int and 1 <= d <= 15 for d in durations)
    if valid and sum(durations) > 15:
        for shot in shots:
            shot["duration"] = 1
    return body


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Integral floats as integers, shots within 15 s (see the module docstring), in every
    phase (stateful included), just before the request is sent."""
    if isinstance(case.body, (dict, list)):
        case.body = _fit_shots(_integral(case.body))
