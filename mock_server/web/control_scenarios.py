"""Control plane for scenarios, rules, faults and forced moves (issue: scenarios and faults)."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """Routes under ``/_mock`` for scenarios and faults."""
    return []
