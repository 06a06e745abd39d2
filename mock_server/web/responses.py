"""Response helpers: PiAPI's JSON envelope and the real service's plain-text 404."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

NOT_FOUND_TEXT = "404 page not found"


class JSONBytes(Response):
    """A JSON response whose headers are built directly (the hot path answers with it).

    Equal to ``Response(body, status, media_type="application/json")``: the same
    ``content-length`` then ``content-type`` header list (a test checks), at under half the
    cost of Starlette's general header assembly. Only for statuses that carry a body.
    """

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = [(b"content-length", b"%d" % len(body)), _JSON_TYPE]


_JSON_TYPE = (b"content-type", b"application/json")


def json_text(text: str, status: int = 200) -> Response:
    """A JSON response from already serialised text."""
    body = text.encode("utf-8")
    if status < 200 or status in (204, 304):  # no content-length there: Starlette's rules
        return Response(body, status_code=status, media_type="application/json")
    return JSONBytes(body, status)


def json_data(data: Any, status: int = 200) -> Response:
    """A JSON response from Python data."""
    return json_text(json.dumps(data, ensure_ascii=False), status)


def error_envelope(status: int, message: str) -> Response:
    """``{code: <status>, data: null, message}`` with the same HTTP status."""
    return json_data({"code": status, "data": None, "message": message}, status)


def page_not_found() -> Response:
    """What PiAPI's Go router answers for an unknown path: plain text, not JSON."""
    return Response(NOT_FOUND_TEXT, status_code=404, media_type="text/plain; charset=utf-8")
