"""Response helpers: PiAPI's JSON envelope and the real service's plain-text 404."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

NOT_FOUND_TEXT = "404 page not found"


def json_text(text: str, status: int = 200) -> Response:
    """A JSON response from already serialised text."""
    return Response(text.encode("utf-8"), status_code=status, media_type="application/json")


def json_data(data: Any, status: int = 200) -> Response:
    """A JSON response from Python data."""
    return json_text(json.dumps(data, ensure_ascii=False), status)


def error_envelope(status: int, message: str) -> Response:
    """``{code: <status>, data: null, message}`` with the same HTTP status."""
    return json_data({"code": status, "data": None, "message": message}, status)


def page_not_found() -> Response:
    """What PiAPI's Go router answers for an unknown path: plain text, not JSON."""
    return Response(NOT_FOUND_TEXT, status_code=404, media_type="text/plain; charset=utf-8")
