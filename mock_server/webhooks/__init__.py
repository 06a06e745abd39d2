"""Webhook delivery: every task event to ``config.webhook_config.endpoint``, retried on the
fake's clock, logged, and never in the way of the API."""

from __future__ import annotations

from starlette.routing import BaseRoute

from mock_server.domain.backend import Backend


def attach_webhooks(backend: Backend) -> None:
    """Register the webhook dispatcher as an observer of ``backend`` (idempotent)."""


def webhook_routes() -> list[BaseRoute]:
    """Control-plane routes for the delivery log (``/_mock/webhooks``)."""
    return []
