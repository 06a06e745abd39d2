"""HTTP fault injection (429/5xx, latency, dropped connections, truncated bodies).

A pure ASGI wrapper around the app, so the no-fault path costs one check per request.
"""

from __future__ import annotations

from typing import Any

from mock_server.domain.backend import Backend


def wrap(app: Any, backend: Backend) -> Any:
    """``app`` wrapped with the fault layer (unchanged until faults exist)."""
    return app
