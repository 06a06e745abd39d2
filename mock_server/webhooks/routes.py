"""``/_mock/webhooks``: the delivery log and redelivery (control plane, not PiAPI)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.domain.errors import PiapiError
from mock_server.domain.models import Status
from mock_server.web.api import backend_of
from mock_server.web.control import control_body
from mock_server.web.responses import json_data
from mock_server.webhooks.dispatcher import Dispatcher


def _dispatcher(request: Request) -> Dispatcher:
    from mock_server.webhooks import dispatcher_of

    return dispatcher_of(backend_of(request))


async def webhook_log(request: Request) -> Response:
    """GET /_mock/webhooks?task_id=&event=: every attempt, oldest first."""
    dispatcher = _dispatcher(request)
    task_id = request.query_params.get("task_id")
    event = request.query_params.get("event")
    attempts = [
        a.as_dict()
        for a in dispatcher.log
        if (not task_id or a.task_id == task_id) and (not event or a.event == event)
    ]
    return json_data({"count": len(attempts), "queued": dispatcher.pending(), "attempts": attempts})


async def redeliver(request: Request) -> Response:
    """POST /_mock/webhooks/redeliver {"task_id": ..., "event"?: status}: send it again now."""
    body = await control_body(request)
    task_id = body.get("task_id")
    event = body.get("event")
    if not isinstance(task_id, str) or not task_id:
        raise PiapiError("invalid request: /task_id: a non-empty string is required")
    if event is not None and (not isinstance(event, str) or event not in set(Status)):
        raise PiapiError(
            f"invalid request: /event: one of {', '.join(s.value for s in Status)} is required"
        )
    queued = _dispatcher(request).redeliver(task_id, event)
    return json_data(
        {
            "task_id": task_id,
            "queued": [{"event": e.status.value, "at_ns": e.at_ns} for e in queued],
        }
    )


def routes() -> list[BaseRoute]:
    """The webhook control routes."""
    return [
        Route("/_mock/webhooks", webhook_log, methods=["GET"]),
        Route("/_mock/webhooks/redeliver", redeliver, methods=["POST"]),
    ]
