"""Strict mode: contract violations in what clients send, at ``/_mock/violations``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute

from mock_server.domain.errors import PiapiError


def record(request: Request, error: PiapiError) -> None:
    """Remember a rejected request when the server runs in strict mode."""


def routes() -> list[BaseRoute]:
    """Routes under ``/_mock`` for recorded violations."""
    return []
