"""Which events a task sends, and what each delivery carries (body and headers)."""

from __future__ import annotations

from typing import Final, NamedTuple

from mock_server.domain import lifecycle
from mock_server.domain.clock import NS
from mock_server.domain.models import Status, TaskRecord, WebhookTarget
from mock_server.domain.render import task_json

#: ``--webhook-events`` values.
EVENT_MODES: Final = ("all", "terminal")


class Event(NamedTuple):
    """A status the task reached at virtual instant ``at_ns``; ``redelivery`` if asked for."""

    status: Status
    at_ns: int
    redelivery: bool = False


def task_events(record: TaskRecord, mode: str, cancel_status: Status) -> list[Event]:
    """The task's events in order: created (pending), processing, terminal; or terminal only.

    A cancel is named as the status it shows (``cancel_status``, ``failed`` by default). A
    status that lasts no time (a task forced to fail the instant it starts) sends no event:
    GET never shows it either.

    Deviation: PiAPI's newest webhook docs also mention log and output updates; omni tasks have
    neither, so the fake sends the three status events (``--webhook-events terminal``: the last).
    """
    steps = lifecycle.transitions(record)
    nexts = [*steps[1:], None]
    steps = [
        step for step, after in zip(steps, nexts, strict=True) if not after or after[0] > step[0]
    ]
    if mode == "terminal":
        steps = [step for step in steps if step[1].terminal]
    return [
        Event(cancel_status if status is Status.CANCELLED else status, at_ns)
        for at_ns, status in steps
    ]


def body(record: TaskRecord, event: Event, cancel_status: Status) -> bytes:
    """``{"timestamp": <unix seconds of the event>, "data": <task as GET shows it then>}``.

    A cancelled task's event shows ``cancel_status`` (as GET does).
    """
    data = task_json(lifecycle.view(record, event.at_ns, cancel_status))
    return f'{{"timestamp":{event.at_ns // NS},"data":{data}}}'.encode()


def headers(target: WebhookTarget) -> dict[str, str]:
    """``Content-Type`` and, only when a secret was given, ``x-webhook-secret``."""
    found = {"content-type": "application/json", "user-agent": "piapi-mock-webhooks"}
    if target.secret:
        found["x-webhook-secret"] = target.secret
    return found
