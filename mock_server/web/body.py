"""Reading a JSON request body safely: size cap, content type, encoding, strict JSON.

Every failure is a :class:`PiapiError` with a message that names the rule; nothing here can
raise anything else, so no body can cause a 500.
"""

from __future__ import annotations

import json
from typing import Any, Final

from starlette.requests import ClientDisconnect, Request

from mock_server.domain.errors import PiapiError
from mock_server.domain.grammar import ascii_int

_JSON_TYPES: Final = ("application/json", "text/json")


class BodyTooLarge(PiapiError):
    """Body over the configured limit (HTTP 413)."""

    status = 413


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


#: One decoder for every body (``json.loads`` with an option builds a new one per call).
_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)


def content_type_problem(value: str | None) -> str:
    """Why a Content-Type is not JSON in UTF-8 ("" when it is, or when there is none).

    Deviation guess: PiAPI's Go backend decodes the body whatever the header says, so the fake
    does too; the problem is only named in the error when the body then fails to parse (and
    recorded in strict mode).
    """
    if not value:
        return ""
    media, _, params = value.partition(";")
    media = media.strip().lower()
    if media not in _JSON_TYPES and not media.endswith("+json"):
        return f"Content-Type is {media!r}, send application/json"
    for param in params.split(";"):
        key, _, val = param.partition("=")
        charset = val.strip().strip('"').lower()
        if key.strip().lower() == "charset" and charset not in {"utf-8", "utf8"}:
            return f"charset is {charset!r}, send utf-8"
    return ""


async def read_bytes(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes without reading it all.

    Read from the ASGI messages directly (what ``request.stream()`` does, without its
    generator and header map: the hot path); a client gone before the end raises
    Starlette's ``ClientDisconnect`` as the stream would.
    """
    declared = _content_length(request.scope["headers"])
    if declared is not None:
        size = _declared_size(declared)
        if size is None:
            raise PiapiError("invalid request: Content-Length must be ASCII digits")
        if size > limit:
            raise BodyTooLarge(f"request body is {size} bytes, at most {limit} allowed")
    receive = request.receive
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body: bytes = message.get("body", b"")  # the usual case: one message
        if len(body) > limit:
            raise BodyTooLarge(f"request body is over {limit} bytes")
        return body
    chunks: list[bytes] = []
    size = 0
    while True:
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body is over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
        message = await receive()


def _content_length(raw_headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The first Content-Length value, as sent."""
    for name, value in raw_headers:
        if name == b"content-length":
            return value
    return None


#: Content-Length values already read (a client sends the same few again and again).
_SIZES: dict[bytes, int | None] = {}


def _declared_size(value: bytes) -> int | None:
    """A Content-Length value as a number (None: not 1-15 ASCII digits, spaces around
    allowed), read as Starlette's header map does (Latin-1); remembered for 256 values."""
    found = _SIZES.get(value, -1) if type(value) is bytes else -1
    if found != -1:
        return found
    text = bytes(value).decode("latin-1")
    size = ascii_int(text.strip()) if len(text) <= 20 else None
    if type(value) is bytes:
        if len(_SIZES) >= 256:
            _SIZES.clear()
        _SIZES[value] = size
    return size


def parse_json(raw: bytes, hint: str = "") -> Any:
    """Strict JSON from UTF-8 bytes: no BOM, no NaN/Infinity, bounded nesting.

    ``hint`` (e.g. a wrong Content-Type) is added to the message when parsing fails.
    """
    try:
        return _parse(raw)
    except PiapiError as exc:
        if hint:
            exc.message = f"{exc.message} ({hint})"
            exc.args = (exc.message,)
        raise


def _parse(raw: bytes) -> Any:
    if not raw.strip():
        raise PiapiError("invalid request: request body is empty, a JSON object is required")
    if raw.startswith(b"\xef\xbb\xbf"):
        raise PiapiError("invalid request: body starts with a byte order mark; send plain UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PiapiError(f"invalid request: body is not valid UTF-8 (byte {exc.start})") from exc
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise PiapiError(f"invalid request: malformed JSON at {where}: {exc.msg}") from exc
    except ValueError as exc:
        raise PiapiError(f"invalid request: {exc}") from exc
    except RecursionError as exc:
        raise PiapiError("invalid request: JSON is nested too deeply") from exc


def parse_body(raw: bytes, content_type: str | None) -> Any:
    """:func:`parse_json` of a body sent with ``content_type``, which is only looked at when
    it can explain a failure (hot path)."""
    try:
        return _parse(raw)
    except PiapiError:
        return parse_json(raw, content_type_problem(content_type))


async def read_json_object(
    request: Request, limit: int, allow_empty: bool = False
) -> dict[str, Any]:
    """The body read and parsed, which must be a JSON object (``{}`` if empty and allowed)."""
    hint = content_type_problem(request.headers.get("content-type"))
    raw = await read_bytes(request, limit)
    if allow_empty and not raw.strip():
        return {}
    value = parse_json(raw, hint)
    if not isinstance(value, dict):
        raise PiapiError(f"invalid request: body must be a JSON object, got {type_name(value)}")
    return value


def type_name(value: object) -> str:
    """The JSON type name of a parsed value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
