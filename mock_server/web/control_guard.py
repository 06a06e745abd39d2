"""The one gate in front of everything under ``/_mock`` (pure ASGI, outermost layer).

Routes added under ``/_mock`` later (the dashboard, new control routes) inherit both rules
without doing anything:

- ``--no-control``: every ``/_mock`` path answers the real service's plain-text 404;
- ``--control-token T``: every ``/_mock`` request must carry ``X-Mock-Control-Token: T``,
  ``Authorization: Bearer T`` or the cookie ``piapi_mock_control_token=T``; otherwise 401
  with PiAPI's envelope naming the token. Compared in constant time on the raw header bytes.
  The dashboard page alone (``GET /_mock/ui``, which a person opens by hand) may carry it as
  ``?token=T`` instead; the page then sends the header itself (docs/dashboard.md).

The gate also notes the address each request arrived on (``scope["server"]``), so the
webhook sender can refuse to deliver to the fake itself (``Backend.listening``).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final
from urllib.parse import unquote_to_bytes

from mock_server.domain.backend import Backend

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PREFIX: Final = "/_mock"
TOKEN_HEADER: Final = b"x-mock-control-token"
COOKIE: Final = "piapi_mock_control_token"
#: The one path that may carry the token in its query (``?token=``): the dashboard page.
PAGE_PATH: Final = "/_mock/ui"
UNAUTHORIZED: Final = (
    "Unauthorized: the /_mock control plane needs the control token (--control-token): send "
    "header X-Mock-Control-Token: <token> or Authorization: Bearer <token>"
)


def is_control(path: str) -> bool:
    """Whether ``path`` is under the control plane."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def presented_tokens(headers: list[tuple[bytes, bytes]]) -> list[bytes]:
    """Every token a request presents (header, bearer, cookie), as raw bytes."""
    found: list[bytes] = []
    for name, value in headers:
        if name == TOKEN_HEADER:
            found.append(value.strip())
        elif name == b"authorization":
            scheme, _, rest = value.strip().partition(b" ")
            if scheme.lower() == b"bearer":
                found.append(rest.strip())
        elif name == b"cookie":
            for part in value.split(b";"):
                key, _, val = part.strip().partition(b"=")
                if key == COOKIE.encode():
                    found.append(val.strip())
    return found


def query_token(scope: Scope) -> bytes | None:
    """The ``token`` query parameter of ``GET /_mock/ui`` (None on every other request)."""
    if scope.get("method") != "GET" or scope["path"] != PAGE_PATH:
        return None
    for part in bytes(scope.get("query_string", b"")).split(b"&"):
        key, _, value = part.partition(b"=")
        if key == b"token":
            return unquote_to_bytes(value.replace(b"+", b" "))
    return None


def token_ok(headers: list[tuple[bytes, bytes]], token: bytes) -> bool:
    """Whether some presented token equals ``token`` (constant-time per comparison)."""
    return any(hmac.compare_digest(given, token) for given in presented_tokens(headers))


class ControlGuard:
    """Applies ``--no-control`` and ``--control-token`` to every ``/_mock`` path."""

    def __init__(self, app: ASGIApp, backend: Backend) -> None:
        self.app = app
        self.backend = backend
        self.state = getattr(app, "state", None)
        self.enabled = backend.settings.control
        self.token = backend.settings.control_token.encode("utf-8")
        self._last_server: object = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind in {"http", "websocket"}:
            self.note(scope)
            if is_control(scope["path"]) and not self._allowed(scope):
                await (_refuse_http(send, self.enabled) if kind == "http" else _refuse_ws(send))
                return
        await self.app(scope, receive, send)

    def note(self, scope: Scope) -> None:
        """Note the address ``scope`` arrived on (``Backend.listening``)."""
        server = scope.get("server")
        if server is not None and server != self._last_server:
            self._last_server = server  # the same address, request after request
            self.backend.listening.add((str(server[0]), server[1]))

    def _allowed(self, scope: Scope) -> bool:
        if not self.enabled:
            return False
        if not self.token or token_ok(scope["headers"], self.token):
            return True
        given = query_token(scope)
        return given is not None and hmac.compare_digest(given, self.token)


async def _refuse_http(send: Send, enabled: bool) -> None:
    if enabled:
        status = 401
        body = json.dumps({"code": 401, "data": None, "message": UNAUTHORIZED}).encode()
        media = b"application/json"
    else:
        status, body, media = 404, b"404 page not found", b"text/plain; charset=utf-8"
    headers = [(b"content-type", media), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse_ws(send: Send) -> None:
    await send({"type": "websocket.close", "code": 1008})


def wrap(app: Any, backend: Backend) -> Any:
    """``app`` behind the control gate."""
    return ControlGuard(app, backend)
