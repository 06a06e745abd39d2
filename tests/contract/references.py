"""Reference servers for the kit's own tests: the fake behind small pure-ASGI wrappers.

* :func:`rewriting` - the fake's JSON answers rewritten (a broken server, one rule at a time).
* :func:`lenient` - a plausible real PiAPI: it keeps the documented rules and none of our
  guesses (any prompt length, any image string, any ``service_mode``, any webhook endpoint,
  ...), and its error messages name no field. The kit must pass it, reporting drift.
* :func:`throttling_invalid` - answers 429 (``Retry-After: 1``) to every request the fake
  would refuse: a 429 is not a rejection, so the kit must not pass it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from contract_tests.invalid import MUTATIONS, example, grade
from contract_tests.verdicts import grade_of
from mock_server.contract_rules import request_violations

App = Any
Rewrite = Callable[[dict[str, Any], bytes, Any], Any]
#: (pointer, rule) of every rule the kit knows to be a guess, as the registry names them.
GUESSED = {
    (v.pointer, v.rule)
    for m in MUTATIONS
    if grade(m).is_guess
    for v in request_violations(example(m))
}
#: What the lenient server creates instead of a body that breaks only guesses.
PLAIN_INPUT = {"version": "3.0", "prompt": "accepted by a lenient server", "duration": 3}


def rewriting(app: App, rewrite: Rewrite) -> App:
    """An ASGI app whose JSON answers are ``rewrite(scope, request_body, json)``.

    ``rewrite`` returns the new JSON, or an ``(status, json)`` pair to change the status, or
    a ``(status, json, headers)`` triple to add headers.
    """

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def replay() -> Any:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        started: dict[str, Any] = {}
        body: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            else:
                body.append(message.get("body", b""))

        await app(scope, replay, capture)
        status, raw = started["status"], b"".join(body)
        extra: list[tuple[bytes, bytes]] = []
        try:
            document = json.loads(raw)
        except ValueError:
            document = None
        if document is not None:
            changed = rewrite(scope, b"".join(chunks), document)
            if isinstance(changed, tuple):
                status, changed, *more = changed
                extra = [(k.encode(), v.encode()) for k, v in (more[0] if more else {}).items()]
            raw = json.dumps(changed).encode()
        headers = [(k, v) for k, v in started["headers"] if k.lower() != b"content-length"]
        headers += [*extra, (b"content-length", str(len(raw)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": raw})

    return wrapped


def _only_guesses(body: Any) -> bool:
    """Whether every rule ``body`` breaks is a guess (by its provenance, else by GUESSED)."""
    found = request_violations(body)
    if any(grade_of(v) is not None for v in found):
        grades = [grade_of(v) for v in found]
        return bool(found) and all(g is not None and g.is_guess for g in grades)
    return bool(found) and all((v.pointer, v.rule) in GUESSED for v in found)


def lenient(app: App) -> App:
    """The fake without our guesses: a body breaking only guessed rules is accepted.

    The task created stands for what a real server would create (a plain valid input); error
    messages are a bare "invalid request" that names no field.
    """

    def vague(scope: dict[str, Any], request: bytes, document: Any) -> Any:
        if isinstance(document, dict) and 400 <= int(document.get("code") or 0) < 500:
            document["message"] = "invalid request"
        return document

    answer = rewriting(app, vague)

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) != ("POST", "/api/v1/task"):
            await answer(scope, receive, send)
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if _only_guesses(body):
            raw = json.dumps({**body, "input": PLAIN_INPUT, "config": {}}).encode()
        sent = [False]

        async def replay() -> Any:
            if sent[0]:
                return {"type": "http.disconnect"}
            sent[0] = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await answer(scope, replay, send)

    return wrapped


def vague_messages(app: App) -> App:
    """Every 4xx message becomes a bare "invalid request" (names no field)."""

    def vague(scope: dict[str, Any], request: bytes, document: Any) -> Any:
        if isinstance(document, dict) and 400 <= int(document.get("code") or 0) < 500:
            document["message"] = "invalid request"
        return document

    return rewriting(app, vague)


def throttling_invalid(app: App) -> App:
    """Every answer the fake gives with a 4xx becomes a 429 with ``Retry-After: 1``."""

    def throttle(scope: dict[str, Any], request: bytes, document: Any) -> Any:
        code = int(document.get("code") or 0) if isinstance(document, dict) else 0
        if scope["method"] == "POST" and 400 <= code < 500 and code != 401:
            envelope = {"code": 429, "data": None, "message": "too many requests"}
            return 429, envelope, {"retry-after": "1"}
        return document

    return rewriting(app, throttle)
