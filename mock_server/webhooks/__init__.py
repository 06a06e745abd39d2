"""Webhook delivery: every task event to ``config.webhook_config.endpoint``, retried on the
fake's clock, logged, and never in the way of the API.

``attach_webhooks(backend)`` registers one :class:`Dispatcher` on ``backend.observers``;
``dispatcher_of(backend)`` finds it. In-process (no lifespan) call ``await
dispatcher_of(backend).run_until_idle()`` after moving the clock; served, a background task
sends as things fall due and ``await dispatcher.wait_idle()`` waits for it. The delivery log
is ``dispatcher.log`` (and ``GET /_mock/webhooks``).

Modules: ``events`` (which events, body, headers), ``schedule`` (the pure heap of due
deliveries), ``sender`` (one bounded HTTP attempt, allow-list), ``dispatcher`` (observer and
explicit API), ``background`` (the served loop), ``log``, ``chaos``, ``routes`` (control
plane), ``receiver`` (a tiny loopback receiver for tests, benchmarks and trying it by hand).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from mock_server.domain.backend import Backend
from mock_server.webhooks.dispatcher import Dispatcher
from mock_server.webhooks.log import Attempt, DeliveryLog


def attach_webhooks(backend: Backend) -> Dispatcher:
    """Register the webhook dispatcher as an observer of ``backend`` (idempotent)."""
    for observer in backend.observers:
        if isinstance(observer, Dispatcher):
            return observer
    dispatcher = Dispatcher(backend)
    backend.observers.append(dispatcher)
    return dispatcher


def dispatcher_of(backend: Backend) -> Dispatcher:
    """The dispatcher of ``backend`` (attached on first use)."""
    return attach_webhooks(backend)


def webhook_routes() -> list[BaseRoute]:
    """Control-plane routes for the delivery log (``/_mock/webhooks``)."""
    from mock_server.webhooks.routes import routes

    return routes()


__all__ = [
    "Attempt",
    "DeliveryLog",
    "Dispatcher",
    "attach_webhooks",
    "dispatcher_of",
    "webhook_routes",
]
